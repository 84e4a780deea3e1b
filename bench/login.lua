-- wrk script: POST /login with the demo user, as fast as the server allows.
wrk.method = "POST"
wrk.body = '{"username":"user1","password":"password123"}'
wrk.headers["Content-Type"] = "application/json"

local bad = 0
function response(status, headers, body)
	if status ~= 200 then bad = bad + 1 end
end

function done(summary, latency, requests)
	io.write(string.format("non-200 answers: %d\n", summary.errors.status))
end
