-- @uses failed parse_meta user_from kept named write_meta digest_of keep_account
-- Load one session in one round trip, with its account's counters; slide its idle expiry only when that matters.
--
-- KEYS[1]  the session hash; KEYS[2] (a layout-3 signed-in session's cookie) the account record
-- ARGV     the header (_layout.lua), then: n, n field/value pairs describing who asks (written only
--          when the expiry slides, and in layouts 2 and 3 only for a signed-in session)
-- KEEP's names (a name ending in ':' is a prefix) are configuration: KEPT. The account record
-- (KEYS[2], read when the session is signed in) holds only the counters of USER_COUNTERS' maps.
--
-- A read within THRESHOLD of the last recorded activity writes nothing; an older one
-- records the activity, so the idle timeout is exact to within THRESHOLD. A Redis that
-- refuses writes still serves the read.
-- Returns {'hit', '1' when it slid else '0', the session's field/value items (as stored before),
-- the account's counters as field/value items, or 'foreign' (the account key holds another type)
-- or 'none', the time it read in ms (the rest of the request writes with it)}, {'grace', reason, idle ms, '1' when signed in else '0', kept field, value, ...},
-- {'expired', reason, idle ms, signed in}, {'ended', reason} (a tombstone), {'miss'}, {'corrupt'}
-- or {'foreign'}. A reason is 'idle' or 'absolute' here; a tombstone's is whatever buried it.
local key = KEYS[1]
local flat = redis.pcall('HGETALL', key)
if failed(flat) then
  return {'foreign'}
end
if #flat == 0 then
  return {'miss'}
end
-- One pass for the few fields the limits need (a table of every field would cost more).
local packed, seen_v1, absolute_v1, ended, u, v1_user, encoded_user, expiry
for i = 1, #flat, 2 do
  local name = flat[i]
  if name == META then
    packed = flat[i + 1]
  elseif name == 'u' then
    u = flat[i + 1]
  elseif name == ENDED then
    ended = flat[i + 1]
  elseif name == EXPIRY_FIELD then
    expiry = flat[i + 1]
  elseif name == 'd:_auth_user_id' then
    encoded_user = flat[i + 1]
  elseif name == 'm:seen' then
    seen_v1 = flat[i + 1]
  elseif name == 'm:abs' then
    absolute_v1 = flat[i + 1]
  elseif name == 'm:uid' then
    v1_user = flat[i + 1]
  end
end
if ended then
  return {'ended', ended}
end
local seen, absolute, version = parse_meta(packed, seen_v1, absolute_v1)
if not seen then
  return {'corrupt'}
end

local devices = tonumber(ARGV[HEADER + 1])
local user = user_from(u, v1_user, encoded_user)

-- The signed-in idle timeout once the session holds a login or a kept key, the anonymous one
-- before; set_expiry(seconds) can only make it stricter.
local idle = ANONYMOUS_IDLE
if user then
  idle = IDLE
else
  for i = 1, #flat, 2 do
    if named(flat[i], KEPT) then
      idle = IDLE
      break
    end
  end
end
if expiry and string.sub(expiry, 1, 1) == 'j' then
  local seconds = tonumber(string.sub(expiry, 2))
  if seconds and seconds ~= 0 then
    idle = math.min(idle, seconds * 1000)
  end
end

if NOW > seen + idle or NOW > absolute then
  -- Past a limit: the session (and its login) ends here, whatever the key's TTL says; every
  -- load finds it so. Within the grace period the hash stays until the fresh session that
  -- carries its kept keys is written (store.py deletes it then), so a Redis too full to
  -- write that session loses nothing.
  local reason = NOW > absolute and 'absolute' or 'idle'
  local signed_in = user and '1' or '0'
  if KEYS[2] and user then
    redis.pcall('HDEL', KEYS[2], INDEX .. digest_of(key))
  end
  if NOW <= seen + idle + GRACE and NOW <= absolute + GRACE then
    local kept = {'grace', reason, idle, signed_in}
    for i = 1, #flat, 2 do
      if named(flat[i], KEPT) then
        kept[#kept + 1] = flat[i]
        kept[#kept + 1] = flat[i + 1]
      end
    end
    return kept
  end
  redis.call('DEL', key)
  return {'expired', reason, idle, signed_in}
end

-- A field's stored value (only a slide asks, for the few fields describing who asks).
local function stored(name)
  for i = 1, #flat, 2 do
    if flat[i] == name then
      return flat[i + 1]
    end
  end
  return nil
end

local function slide()
  write_meta(key, NOW, absolute, idle, version)
  if LAYOUT == 1 or user then
    local changed = {}
    for i = HEADER + 2, HEADER + 1 + 2 * devices, 2 do
      if ARGV[i + 1] ~= '' and stored(ARGV[i]) ~= ARGV[i + 1] then
        changed[#changed + 1] = ARGV[i]
        changed[#changed + 1] = ARGV[i + 1]
      end
    end
    if #changed > 0 then
      redis.call('HSET', key, unpack(changed))
    end
  end
  if KEYS[2] and user then
    keep_account(KEYS[2])
  end
end

-- A Redis that refuses writes (full under noeviction, a read-only replica) still serves the
-- read: the activity is recorded by a later request instead.
local slid = '0'
if (NOW - seen >= THRESHOLD or version ~= LAYOUT) and pcall(slide) then
  slid = '1'
end

if not (KEYS[2] and user) then
  return {'hit', slid, flat, 'none', NOW}
end
-- The account's counters, picked out by Redis itself (its session index stays in Redis):
-- one page while the record is a listpack, the usual case.
local page = redis.pcall('HSCAN', KEYS[2], '0', 'MATCH', COUNTER .. '*', 'COUNT', 1000)
if failed(page) then
  return {'hit', slid, flat, 'foreign', NOW}
end
local counters = page[2]
while page[1] ~= '0' do
  page = redis.call('HSCAN', KEYS[2], page[1], 'MATCH', COUNTER .. '*', 'COUNT', 1000)
  for _, item in ipairs(page[2]) do
    counters[#counters + 1] = item
  end
end
return {'hit', slid, flat, counters, NOW}
