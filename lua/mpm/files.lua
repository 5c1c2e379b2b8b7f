-- mpm.files: the path and file helpers the Lua half shares (run directories, checkpoints,
-- metrics, plots), so each is written once.
return function(mpm)
  local files = {}

  --- mpm.files.join(dir, name) -> "dir/name" (no doubled slash).
  function files.join(dir, name) return dir:sub(-1) == "/" and dir .. name or dir .. "/" .. name end

  --- mpm.files.exists(path) -> true when path can be opened for reading.
  function files.exists(path)
    local f = io.open(path, "r")
    if f then f:close() return true end
    return false
  end

  --- mpm.files.quote(s) -> s quoted for a POSIX shell ('it'\''s').
  function files.quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

  --- mpm.files.mkdir(dir) -> true, or nil and a message: creates dir and its parents.
  function files.mkdir(dir)
    local ok = os.execute("mkdir -p " .. files.quote(dir))
    if ok == true or ok == 0 then return true end
    return nil, "cannot create directory " .. dir
  end

  mpm.files = files
end
