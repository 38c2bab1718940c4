package main

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// lockedBuffer is a writer the lineWriter's timer and the test share.
type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestLineWriterKeepsLines: every line arrives whole, each goroutine's in
// its order, all of them by the time Close returns; a line after Close
// goes straight through.
func TestLineWriterKeepsLines(t *testing.T) {
	const goroutines, lines = 8, 500
	out := &lockedBuffer{}
	lw := newLineWriter(out)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range lines {
				fmt.Fprintf(lw, "{\"g\":%d,\"i\":%d}\n", g, i)
			}
		})
	}
	wg.Wait()
	if err := lw.Close(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(lw, "after close\n")

	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(got) != goroutines*lines+1 || got[len(got)-1] != "after close" {
		t.Fatalf("%d lines, last %q", len(got), got[len(got)-1])
	}
	next := make([]int, goroutines)
	for _, l := range got[:len(got)-1] {
		var g, i int
		if _, err := fmt.Sscanf(l, "{\"g\":%d,\"i\":%d}", &g, &i); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if i != next[g] {
			t.Fatalf("goroutine %d: line %d after %d", g, i, next[g]-1)
		}
		next[g]++
	}
}

// TestLineWriterDelay: a line is written within logDelay, together with
// those that came meanwhile, without Close.
func TestLineWriterDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		out := &lockedBuffer{}
		lw := newLineWriter(out)
		fmt.Fprintf(lw, "a\n")
		fmt.Fprintf(lw, "b\n")
		time.Sleep(logDelay - time.Nanosecond)
		synctest.Wait()
		if got := out.String(); got != "" {
			t.Fatalf("written before logDelay: %q", got)
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if got := out.String(); got != "a\nb\n" || out.writes != 1 {
			t.Fatalf("after logDelay: %q in %d writes", got, out.writes)
		}
		fmt.Fprintf(lw, "c\n")
		time.Sleep(logDelay)
		synctest.Wait()
		if got := out.String(); got != "a\nb\nc\n" {
			t.Fatalf("second batch: %q", got)
		}
	})
}

// blockingWriter holds every Write until release is closed.
type blockingWriter struct {
	release chan struct{}
	lockedBuffer
}

func (b *blockingWriter) Write(p []byte) (int, error) {
	<-b.release
	return b.lockedBuffer.Write(p)
}

// TestLineWriterBounds: while the output is stuck, a Write past
// maxPendingLog waits instead of growing the buffer; once the output moves
// everything is written, in order.
func TestLineWriterBounds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		out := &blockingWriter{release: make(chan struct{})}
		lw := newLineWriter(out)
		fmt.Fprintf(lw, "first\n")
		time.Sleep(logDelay)
		synctest.Wait() // the flush is stuck writing "first"
		line := strings.Repeat("x", 1023) + "\n"
		n := maxPendingLog / len(line)
		for range n {
			if _, err := lw.Write([]byte(line)); err != nil {
				t.Fatal(err)
			}
		}
		returned := make(chan struct{})
		go func() {
			fmt.Fprintf(lw, "over the bound\n")
			close(returned)
		}()
		synctest.Wait()
		select {
		case <-returned:
			t.Fatal("Write past maxPendingLog returned while the output was stuck")
		default:
		}
		close(out.release)
		<-returned
		if err := lw.Close(); err != nil {
			t.Fatal(err)
		}
		got := out.String()
		if !strings.HasPrefix(got, "first\n"+line) || !strings.HasSuffix(got, line+"over the bound\n") ||
			len(got) != len("first\n")+n*len(line)+len("over the bound\n") {
			t.Fatalf("%d bytes written", len(got))
		}
	})
}
