-- The load of `sessionkit-bench http`, for wrk 4:
--
--   wrk -t2 -c64 -d8s --latency -s bench.lua URL -- HEADERS METHOD PATH [BODY CONTENT_TYPE]
--
-- HEADERS is a file of `Name: value` lines, one per session (an Authorization or Cookie
-- header); each thread pre-formats requests over a slice of them (starting at a different line
-- per thread) and cycles through them, so the load spreads over many sessions and no per-request
-- string building competes with the server for the CPU. BODY (a file) and its CONTENT_TYPE make
-- every request carry that body. `done` prints one line, `WRKJSON {...}`, with the counts and
-- the latency percentiles in microseconds.

local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

local requests = {}
local count = 0
local next_index = 0

function init(args)
  local lines = {}
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    if #line > 0 then lines[#lines + 1] = line end
  end
  file:close()
  assert(#lines > 0, "no header lines in " .. args[1])
  local method, path = args[2], args[3]
  local body, content_type = nil, nil
  if args[4] then
    local b = assert(io.open(args[4], "rb"))
    body = b:read("*a")
    b:close()
    content_type = args[5]
  end
  -- Bodies can be large: fewer distinct requests then.
  local limit = math.min(#lines, body and 256 or 4096)
  local start = ((tid or 0) * 7919) % #lines
  for k = 1, limit do
    local line = lines[((start + k - 1) % #lines) + 1]
    local name, value = line:match("^([^:]+):%s*(.*)$")
    local headers = { [name] = value }
    if content_type then headers["Content-Type"] = content_type end
    requests[k] = wrk.format(method, path, headers, body)
  end
  count = limit
end

function request()
  next_index = next_index % count + 1
  return requests[next_index]
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"status_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,' ..
    '"p99_us":%d,"p999_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean))
end
