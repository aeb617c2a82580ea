// Translation unit that owns the precompiled header (see src/pch.h).
