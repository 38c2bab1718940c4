package main

import (
	"io"
	"sync"
	"time"
)

const (
	// logDelay is how long a log line may wait to be written together
	// with the lines that follow it.
	logDelay = 10 * time.Millisecond
	// maxPendingLog bounds the bytes waiting: beyond it a Write waits, so
	// a stuck stderr slows requests down instead of growing memory.
	maxPendingLog = 1 << 20
)

// lineWriter gathers log lines and writes them at most logDelay later, in
// one write(2) for all that came meanwhile. slog's handlers hold one lock
// around each line's Write, so with a write(2) per line every request
// queued behind the log file: measured on 2 cores, the access line cost a
// sixth of /oauth2/url's throughput. Lines stay whole and in order; Close
// writes what is left, and a line written after Close goes straight
// through. What a crash (a fatal error, SIGKILL) can lose is the last
// logDelay of lines; a graceful stop loses nothing.
type lineWriter struct {
	w io.Writer

	mu        sync.Mutex
	space     sync.Cond // the pending lines were taken
	buf       []byte
	scheduled bool
	closed    bool
	timer     *time.Timer

	wmu   sync.Mutex // held while writing to w, so that writes keep their order
	spare []byte     // the other buffer, under wmu
}

func newLineWriter(w io.Writer) *lineWriter {
	lw := &lineWriter{w: w}
	lw.space.L = &lw.mu
	return lw
}

// Write queues p, one whole line (slog writes each record with one call).
func (lw *lineWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	for len(lw.buf) >= maxPendingLog && !lw.closed {
		lw.space.Wait()
	}
	if lw.closed {
		lw.mu.Unlock()
		lw.flush() // lines queued before Close go first
		lw.wmu.Lock()
		defer lw.wmu.Unlock()
		return lw.w.Write(p)
	}
	lw.buf = append(lw.buf, p...)
	if !lw.scheduled {
		lw.scheduled = true
		if lw.timer == nil {
			lw.timer = time.AfterFunc(logDelay, lw.flush)
		} else {
			lw.timer.Reset(logDelay)
		}
	}
	lw.mu.Unlock()
	return len(p), nil
}

// flush writes the pending lines.
func (lw *lineWriter) flush() {
	lw.wmu.Lock()
	defer lw.wmu.Unlock()
	lw.mu.Lock()
	b := lw.buf
	lw.buf, lw.spare = lw.spare[:0], nil
	lw.scheduled = false
	lw.space.Broadcast()
	lw.mu.Unlock()
	if len(b) > 0 {
		// A log line that cannot be written has nowhere else to go; slog
		// ignores the error too.
		_, _ = lw.w.Write(b)
	}
	lw.spare = b
}

// Close writes the pending lines and returns when they are written.
func (lw *lineWriter) Close() error {
	lw.mu.Lock()
	lw.closed = true
	if lw.timer != nil {
		lw.timer.Stop()
	}
	lw.space.Broadcast()
	lw.mu.Unlock()
	lw.flush()
	return nil
}
