-- wrk script: POST /refresh, each connection rotating its own chain of
-- refresh tokens (a token is single use, so every answer gives the next).
-- Start tokens come from the file named by the TOKENS environment variable,
-- one per line; each wrk thread takes every n-th line.
local threads = {}
local counter = 0

function setup(thread)
	thread:set("index", counter)
	counter = counter + 1
	table.insert(threads, thread)
end

function init(args)
	tokens = {}
	local n = tonumber(os.getenv("WRK_THREADS") or "1")
	local i = 0
	for line in io.lines(os.getenv("TOKENS")) do
		if i % n == index then table.insert(tokens, line) end
		i = i + 1
	end
end

function request()
	-- A chain breaks only on an error answer; then send a dud (400).
	local t = table.remove(tokens, 1) or "broken-chain"
	return wrk.format("POST", "/refresh",
		{ ["Content-Type"] = "application/json" },
		'{"refresh_token":"' .. t .. '"}')
end

function response(status, headers, body)
	local t = body:match('"refresh_token":"([^"]+)"')
	if t then table.insert(tokens, t) end
end
