package writer

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/journeyd/journeyd/event"
)

// DeadLetter is one line of the dead-letter file: an event ClickHouse did not take, why,
// and when. Event keeps the field names of event.Event, so a replay tool can decode it.
type DeadLetter struct {
	Time   time.Time   `json:"time"`
	Reason string      `json:"reason"`
	Error  string      `json:"error"`
	Event  event.Event `json:"event"`
}

// deadLetters appends DeadLetter lines to a file opened on first use. Without a path the
// lines go to the log.
type deadLetters struct {
	path string
	log  *slog.Logger
	mu   sync.Mutex
	f    *os.File
	enc  *json.Encoder
}

func (d *deadLetters) write(lines []DeadLetter) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.path == "" {
		for _, l := range lines {
			d.log.Error("dead letter: ClickHouse did not take an event", "reason", l.Reason, "err", l.Error, "event", l.Event)
		}
		return nil
	}
	if d.f == nil {
		f, err := os.OpenFile(d.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			return fmt.Errorf("cannot open dead-letter file %s: %w", d.path, err)
		}
		d.f, d.enc = f, json.NewEncoder(f)
	}
	for i := range lines {
		if err := d.enc.Encode(&lines[i]); err != nil {
			return fmt.Errorf("cannot write %d events to dead-letter file %s: %w", len(lines)-i, d.path, err)
		}
	}
	return nil
}

func (d *deadLetters) close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f == nil {
		return nil
	}
	err := d.f.Close()
	d.f, d.enc = nil, nil
	if err != nil {
		return fmt.Errorf("cannot close dead-letter file %s: %w", d.path, err)
	}
	return nil
}
