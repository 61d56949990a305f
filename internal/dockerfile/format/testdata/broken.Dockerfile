FROM alpine:3.20
RUN true
FROB everything
