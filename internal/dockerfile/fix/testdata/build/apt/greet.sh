#!/bin/sh
echo '{"greeting":"hello from jq"}' | jq -r .greeting
