-- wrk script: POST the file named by $BODY to the scan endpoint.
local f = assert(io.open(os.getenv("BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/yaml"

-- Count non-200 replies so that a fast error is not mistaken for speed.
local bad = 0
response = function(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("non-200 replies: %d\n", summary.errors.status))
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("p%g: %.3f ms\n", p, latency:percentile(p) / 1000))
  end
end
