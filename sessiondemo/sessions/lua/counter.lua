-- Change one named counter map of a session atomically (the cart's sku -> quantity).
--
-- KEYS[1]  the session hash
-- ARGV[1]  now in ms ('' = the server's clock), ARGV[2] idle ms, ARGV[3] absolute ms, ARGV[4] grace ms
-- ARGV[5]  operation: add, set, remove or clear
-- ARGV[6]  the counter's field ('c:<map>:<name>'), or for clear the map's prefix ('c:<map>:')
-- ARGV[7]  amount (add) or value (set), ARGV[8] the maximum a counter may reach (add)
--
-- A counter that reaches 0 is removed. Counters change only by HINCRBY (set adds the
-- difference): under active-active geo-replication, concurrent increments made in two
-- regions then add up (a counter CRDT) instead of the later write winning.
-- Returns {'ok', new value (removed count for clear)}, {'limit', current value}
-- (nothing changed), {'gone'} or {'corrupt'}.
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then
  return {'gone'}
end
local now = clock_ms(ARGV[1])
local idle, grace = tonumber(ARGV[2]), tonumber(ARGV[4])
local operation, field = ARGV[5], ARGV[6]
local result

local function change_by(amount)
  if amount == 0 then
    return tonumber(redis.call('HGET', key, field) or '0')
  end
  local new_value = redis.call('HINCRBY', key, field, amount)
  if new_value == 0 then
    redis.call('HDEL', key, field)
  end
  return new_value
end

if operation == 'add' or operation == 'set' then
  local current = tonumber(redis.call('HGET', key, field) or '0')
  if not current then
    return {'corrupt'}
  end
  if operation == 'add' then
    local amount = tonumber(ARGV[7])
    if current + amount > tonumber(ARGV[8]) or current + amount < 0 then
      return {'limit', current}
    end
    result = change_by(amount)
  else
    result = change_by(math.max(tonumber(ARGV[7]), 0) - current)
  end
elseif operation == 'remove' then
  redis.call('HDEL', key, field)
  result = 0
elseif operation == 'clear' then
  result = 0
  for _, name in ipairs(redis.call('HKEYS', key)) do
    if string.sub(name, 1, #field) == field then
      redis.call('HDEL', key, name)
      result = result + 1
    end
  end
else
  return redis.error_reply('unknown counter operation ' .. operation)
end

redis.call('HSET', key, 'm:seen', string.format('%d', now))
local absolute_expiry = tonumber(redis.call('HGET', key, 'm:abs')) or (now + tonumber(ARGV[3]))
redis.call('PEXPIREAT', key, string.format('%d', math.min(now + idle + grace, absolute_expiry + grace)))
return {'ok', result}
