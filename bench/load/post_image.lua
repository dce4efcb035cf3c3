-- post_image.lua — wrk script: POSTs one image file as the raw request body
-- (Content-Type from the file extension) and, when done, prints one line
--   RESULT requests=N duration_s=S rps=R p50_ms=.. p90_ms=.. p99_ms=.. errors=E
-- that bench/load/run.sh parses. The image path comes from $IMAGE.
-- It never changes the request between calls (same body every time).

local path = os.getenv("IMAGE") or "models/tiny-demo/sample.png"
local f = assert(io.open(path, "rb"), "cannot open " .. path)
local body = f:read("*a")
f:close()

local ctype = "image/png"
local lower = string.lower(path)
if lower:match("%.jpe?g$") then
    ctype = "image/jpeg"
end

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = ctype

done = function(summary, latency, requests)
    local e = summary.errors
    local errors = e.connect + e.read + e.write + e.status + e.timeout
    local secs = summary.duration / 1e6
    io.write(string.format(
        "RESULT requests=%d duration_s=%.3f rps=%.2f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f errors=%d non2xx=%d\n",
        summary.requests, secs, summary.requests / secs,
        latency:percentile(50) / 1e3, latency:percentile(90) / 1e3,
        latency:percentile(99) / 1e3, errors, e.status))
end
