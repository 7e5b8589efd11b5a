-- Prepended to every session script by scripts.py (Redis scripts can't include files).

-- The time in ms that limits are checked against: the caller's (tests inject a clock)
-- or, when the argument is empty, Redis's own, so every instance agrees.
local function clock_ms(argument)
  local now = tonumber(argument)
  if now then
    return now
  end
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
