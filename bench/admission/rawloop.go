package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The -raw open loop is the apiserver's side of a webhook call as plainly as
// it can be done: HTTP/1.1 (what kube-apiserver speaks to admission
// webhooks behind a Service, opening a connection per concurrent request),
// one keep-alive TLS connection per sender, requests serialised once. Each
// sender owns every n-th slot of the schedule and sleeps until it on its
// own thread with nanosleep(2), then writes the request and waits for the
// answer in a blocking read(2): the kernel wakes it when the bytes arrive,
// with no goroutine hand-off, channel or netpoller wake-up between the
// schedule and the socket. What is left between the two clocks is the
// server's.
//
// A sender whose previous answer has not come back by its next slot sends
// late; the latency still counts from the slot (no coordinated omission).
// With n senders a slot comes round every n/rate seconds (16 at 2,000 req/s:
// 8 ms), so only an answer slower than that delays the next.
//
// Two things of Go's runtime would otherwise delay the senders by
// milliseconds, and are turned off for the loop: a thread back from
// nanosleep or read needs a P to run Go code, and with GOMAXPROCS at the
// core count the Ps sit with the threads blocked in their syscalls until
// sysmon takes them back (so GOMAXPROCS is one per sender, plus two); and a
// collection's mark workers would run beside the senders (so the collector
// is off: a run allocates a few hundred MB at most).

// rawConn is one blocking TCP socket to the server, as a net.Conn for
// crypto/tls. Deadlines are not supported (the run's length bounds it).
type rawConn struct {
	fd   int
	addr net.Addr
}

func dialRaw(addr string) (*rawConn, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().Is4() {
		return nil, fmt.Errorf("the raw client needs an IPv4 address and port, not %q", addr)
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	sa := &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	if err := syscall.Connect(fd, sa); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("connecting to %s: %w", addr, err)
	}
	if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("TCP_NODELAY: %w", err)
	}
	return &rawConn{fd: fd, addr: net.TCPAddrFromAddrPort(ap)}, nil
}

func (c *rawConn) Read(b []byte) (int, error) {
	for {
		n, err := syscall.Read(c.fd, b)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		if n == 0 && len(b) > 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

func (c *rawConn) Write(b []byte) (int, error) {
	done := 0
	for done < len(b) {
		n, err := syscall.Write(c.fd, b[done:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return done, err
		}
		done += n
	}
	return done, nil
}

func (c *rawConn) Close() error                     { return syscall.Close(c.fd) }
func (c *rawConn) LocalAddr() net.Addr              { return c.addr }
func (c *rawConn) RemoteAddr() net.Addr             { return c.addr }
func (c *rawConn) SetDeadline(time.Time) error      { return nil }
func (c *rawConn) SetReadDeadline(time.Time) error  { return nil }
func (c *rawConn) SetWriteDeadline(time.Time) error { return nil }

// sender is one connection of the raw client.
type sender interface {
	// do sends the request of target t and reads the whole answer into
	// body; an answer that is not 200 or lacks the target's fragment is an
	// error.
	do(t int, body *bytes.Buffer) error
	close()
}

// dialTLS opens a blocking socket to addr and makes the TLS handshake,
// offering proto alone.
func dialTLS(addr string, cfg *tls.Config, proto string) (*tls.Conn, error) {
	rc, err := dialRaw(addr)
	if err != nil {
		return nil, err
	}
	cfg = cfg.Clone()
	cfg.NextProtos = []string{proto}
	cfg.ServerName = "127.0.0.1"
	tc := tls.Client(rc, cfg)
	if err := tc.Handshake(); err != nil {
		rc.Close()
		return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
	}
	// No ALPN at all means HTTP/1.1.
	if got := tc.ConnectionState().NegotiatedProtocol; got != proto && (got != "" || proto != "http/1.1") {
		tc.Close()
		return nil, fmt.Errorf("the server at %s did not agree to %s (got %q)", addr, proto, got)
	}
	return tc, nil
}

// h1Sender speaks HTTP/1.1, one request at a time, keep-alive.
type h1Sender struct {
	conn  *tls.Conn
	br    *bufio.Reader
	reqs  [][]byte
	wants [][]byte
}

func newH1Sender(addr string, cfg *tls.Config, targets []target) (*h1Sender, error) {
	tc, err := dialTLS(addr, cfg, "http/1.1")
	if err != nil {
		return nil, err
	}
	s := &h1Sender{conn: tc, br: bufio.NewReaderSize(tc, 64<<10)}
	for _, tg := range targets {
		s.reqs = append(s.reqs, h1Request(addr, tg))
		s.wants = append(s.wants, []byte(tg.want))
	}
	return s, nil
}

// h1Request is a request as it goes on the wire.
func h1Request(addr string, tg target) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST /%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: tollgate-bench\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: %d\r\n\r\n",
		tg.route, addr, len(tg.body))
	b.Write(tg.body)
	return b.Bytes()
}

func (s *h1Sender) do(t int, body *bytes.Buffer) error {
	if _, err := s.conn.Write(s.reqs[t]); err != nil {
		return fmt.Errorf("sending: %w", err)
	}
	resp, err := http.ReadResponse(s.br, nil)
	if err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	body.Reset()
	_, err = body.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("reading the answer's body: %w", err)
	}
	if resp.Close {
		return errors.New("the server closed the connection")
	}
	return checkAnswer(resp.StatusCode, body.Bytes(), s.wants[t])
}

func checkAnswer(status int, body, want []byte) error {
	if status != http.StatusOK || !bytes.Contains(body, want) {
		return fmt.Errorf("status %d, body %s", status, body)
	}
	return nil
}

func (s *h1Sender) close() { s.conn.Close() }

// rawLoop is openLoop's schedule over the raw senders.
func rawLoop(senders []sender, targets []target, rate float64, d time.Duration) openResult {
	total := int(rate * d.Seconds())
	lat := make([]time.Duration, total)
	pickup := make([]time.Duration, total)
	ok := make([]bool, total)
	var (
		late     atomic.Int64
		mu       sync.Mutex
		firstErr string
		wg       sync.WaitGroup
	)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(len(senders) + 2))
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	interval := time.Duration(float64(time.Second) / rate)
	t0 := time.Now().Add(10 * time.Millisecond) // every sender is asleep by then
	for k, s := range senders {
		wg.Go(func() {
			// The thread sleeps and reads for this sender only.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var body bytes.Buffer
			for i := k; i < total; i += len(senders) {
				due := t0.Add(time.Duration(i) * interval)
				sleepUntil(due)
				pickup[i] = time.Since(due)
				if pickup[i] > time.Millisecond {
					late.Add(1)
				}
				tg := i % len(targets)
				err := s.do(tg, &body)
				lat[i] = time.Since(due)
				if err != nil {
					mu.Lock()
					if firstErr == "" {
						firstErr = fmt.Sprintf("/%s: %v", targets[tg].route, err)
					}
					mu.Unlock()
					return // the connection is in an unknown state
				}
				ok[i] = true
			}
		})
	}
	wg.Wait()
	// Every slot without an answer counts: failed, or never sent because
	// its sender stopped at an earlier error.
	res := openResult{pickup: pickup, lateSends: late.Load(), firstErr: firstErr, elapsed: time.Since(t0)}
	res.lat, res.service = answered(lat, pickup, ok, len(targets))
	for _, answered := range ok {
		if !answered {
			res.errors++
		}
	}
	return res
}
