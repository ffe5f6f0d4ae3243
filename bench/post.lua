-- wrk script: POST /orders/N with a different order id on each request (each thread its own range).
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("first", threads * 100000000)
end

local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", "/orders/" .. ((first or 0) + n))
end
