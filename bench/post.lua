-- wrk script: POST /orders/N with a different order id on each request.
local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", "/orders/" .. n)
end
