package emaillink

import (
	"fmt"
	"os"
	"strings"
)

// MinSecretLen is the shortest secret a key may have, in bytes.
const MinSecretLen = 16

// Key is one signing key with its id, which tokens carry so that any configured key can
// verify them.
type Key struct {
	ID     string
	Secret []byte
}

func (k Key) validate() error {
	if k.ID == "" || len(k.ID) > 32 || strings.ContainsAny(k.ID, ":, \t\r\n") {
		return fmt.Errorf("key id %q: want 1 to 32 characters without ':' ',' or spaces", k.ID)
	}
	if len(k.Secret) < MinSecretLen {
		return fmt.Errorf("key %q: secret shorter than %d bytes", k.ID, MinSecretLen)
	}
	return nil
}

// ParseKeys parses keys written as "id:secret,id:secret" (the JOURNEYD_LINK_KEYS format;
// newlines separate keys too). The last key is the newest: it signs.
func ParseKeys(s string) ([]Key, error) {
	var keys []Key
	for _, item := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' }) {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		id, secret, ok := strings.Cut(item, ":")
		if !ok {
			return nil, fmt.Errorf("cannot parse link key %d: want id:secret", len(keys)+1)
		}
		k := Key{ID: strings.TrimSpace(id), Secret: []byte(strings.TrimSpace(secret))}
		if err := k.validate(); err != nil {
			return nil, fmt.Errorf("cannot parse link key %d: %w", len(keys)+1, err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("cannot parse link keys: none given, want id:secret[,id:secret]")
	}
	return keys, nil
}

// LoadKeys returns the keys of the environment variable JOURNEYD_LINK_KEYS, or of file
// when it is not empty (the file wins).
func LoadKeys(file string) ([]Key, error) {
	s := os.Getenv("JOURNEYD_LINK_KEYS")
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("cannot read link keys: %w", err)
		}
		s = string(b)
	}
	return ParseKeys(s)
}
