package collector

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"net/netip"
	"sync"
	"time"
)

// anonIDs derives cookieless anonymous ids: the first 16 bytes, in hex after "ck", of
// SHA-256(daily salt, site, client address, user agent). The daily salt is
// HMAC-SHA256(secret, UTC date): the same visitor gets the same id all day on every node
// that shares the secret, and a new, unlinkable one the next day.
type anonIDs struct {
	secret []byte

	mu   sync.Mutex
	day  int64 // days since the epoch of salt
	salt [sha256.Size]byte
}

func newAnonIDs(secret []byte) (*anonIDs, error) {
	if len(secret) == 0 {
		secret = make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return nil, fmt.Errorf("cannot draw a cookieless secret: %w", err)
		}
	}
	return &anonIDs{secret: append([]byte(nil), secret...), day: -1}, nil
}

// saltFor returns the salt of the UTC day of now.
func (a *anonIDs) saltFor(now time.Time) [sha256.Size]byte {
	day := now.Unix() / 86400
	a.mu.Lock()
	defer a.mu.Unlock()
	if day != a.day {
		m := hmac.New(sha256.New, a.secret)
		m.Write([]byte(now.UTC().Format(time.DateOnly)))
		copy(a.salt[:], m.Sum(nil))
		a.day = day
	}
	return a.salt
}

// derive returns the cookieless anonymous id of a visitor of site at addr with user agent ua.
func (a *anonIDs) derive(now time.Time, site string, addr netip.Addr, ua []byte) string {
	salt := a.saltFor(now)
	var buf [512]byte
	b := append(buf[:0], salt[:]...)
	b = append(b, site...)
	b = append(b, 0)
	b = addr.AppendTo(b)
	b = append(b, 0)
	b = append(b, ua...)
	sum := sha256.Sum256(b)
	var out [34]byte
	out[0], out[1] = 'c', 'k'
	for i, c := range sum[:16] {
		out[2+2*i], out[3+2*i] = hexDigits[c>>4], hexDigits[c&0x0f]
	}
	return string(out[:])
}
