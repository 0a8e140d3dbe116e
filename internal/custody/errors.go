package custody

import "errors"

// Errors a caller branches on. Each failure they describe leaves the data directory and the
// share directory exactly as they were.
var (
	// ErrNotInitialized: the data directory holds no seal.
	ErrNotInitialized = errors.New("custody: not initialized (no seal in data directory)")
	// ErrAlreadyInitialized: Init found a seal and refuses to replace it.
	ErrAlreadyInitialized = errors.New("custody: already initialized (a seal exists)")
	// ErrCorruptSeal: the seal file is truncated, damaged or was tampered with.
	ErrCorruptSeal = errors.New("custody: seal file is corrupt or was tampered with")
	// ErrUnsupportedVersion: the seal was written by a newer (or unknown) format version.
	ErrUnsupportedVersion = errors.New("custody: unsupported seal format version")
	// ErrWrongPassphrase: the passphrase does not open this seal.
	ErrWrongPassphrase = errors.New("custody: wrong passphrase")
	// ErrWrongUnlockMethod: a passphrase was given for a seal protected by shares, or the
	// reverse.
	ErrWrongUnlockMethod = errors.New("custody: seal is protected by a different unlock method")
	// ErrShareMismatch: a share belongs to another seal, or the shares do not belong together.
	ErrShareMismatch = errors.New("custody: share belongs to another seal")
	// ErrInvalidShare: a share is malformed or fails its checksum (typically a mistyped word).
	ErrInvalidShare = errors.New("custody: invalid share")
	// ErrInsufficientShares: fewer distinct shares than the seal's threshold.
	ErrInsufficientShares = errors.New("custody: not enough shares")
	// ErrKDFTooWeak: Argon2id parameters below the floor (MinArgon2Params).
	ErrKDFTooWeak = errors.New("custody: argon2id parameters below the minimum")
	// ErrInsecurePermissions: a secret file can be read or written by group or others.
	ErrInsecurePermissions = errors.New("custody: secret file is accessible by group or others")
	// ErrSealed: the vault (or a key handle from it) is used after Close.
	ErrSealed = errors.New("custody: vault is sealed")
)
