-- wrk script for bench/bench_resource.sh: GET /protected with the Bearer
-- tokens of a file (one per line), taken in turn, so N distinct tokens
-- defeat the verified-token cache and one token keeps it warm. With a
-- third argument "auth", PATH is the forward-auth endpoint and each request
-- asks it about GET /protected (X-Original-Method, X-Original-URI), as
-- nginx's auth_request does.
-- Usage: wrk ... -s resource_tokens.lua URL -- TOKENS_FILE [PATH [auth]]

local requests = {}
local next_index = 1

function init(args)
	local file = assert(io.open(args[1], "r"), "no tokens file")
	local path = args[2] or "/protected"
	local forward = args[3] == "auth"
	for token in file:lines() do
		if #token > 0 then
			local headers = { ["Authorization"] = "Bearer " .. token }
			if forward then
				headers["X-Original-Method"] = "GET"
				headers["X-Original-URI"] = "/protected"
			end
			requests[#requests + 1] = wrk.format("GET", path, headers)
		end
	end
	file:close()
	assert(#requests > 0, "tokens file is empty")
	-- Threads start at different tokens so they do not move in step.
	next_index = (math.random(#requests) - 1) % #requests + 1
end

function request()
	local r = requests[next_index]
	next_index = next_index % #requests + 1
	return r
end

-- One parseable line; latencies in microseconds. "non2xx" must be 0 for
-- the figures to mean anything (a 401 is cheaper than a 200).
function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
	    "BENCH requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d " ..
	    "socket_errors=%d non2xx=%d\n",
	    summary.requests, summary.duration,
	    summary.requests / (summary.duration / 1e6),
	    latency:percentile(50), latency:percentile(99),
	    e.connect + e.read + e.write + e.timeout, e.status))
end
