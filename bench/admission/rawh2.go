package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2Sender speaks HTTP/2 from the sender's own thread, as the raw HTTP/1.1
// sender does: one stream at a time on its connection, the frames written
// and read in place (no reader goroutine). A client multiplexing many
// streams on one connection (Go's, the ImagePolicyWebhook's) costs the
// server the same per request; what it adds on the client side is the
// generator's, not tollgate's.
type h2Sender struct {
	conn   *tls.Conn
	fr     *http2.Framer // reads from the connection, writes acks to it
	out    bytes.Buffer  // a request's frames, written at once
	outFr  *http2.Framer // writes into out
	reqs   [][]byte      // HPACK blocks, stateless (never-indexed literals)
	bodies [][]byte
	wants  [][]byte
	stream uint32
}

// Our receive windows: large enough that a run never needs a
// WINDOW_UPDATE (answers are a few KB).
const h2Window = 1 << 30

func newH2Sender(addr string, cfg *tls.Config, targets []target) (*h2Sender, error) {
	tc, err := dialTLS(addr, cfg, "h2")
	if err != nil {
		return nil, err
	}
	s := &h2Sender{conn: tc, stream: 1}
	s.fr = http2.NewFramer(tc, bufio.NewReaderSize(tc, 64<<10))
	s.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	s.outFr = http2.NewFramer(&s.out, nil)
	for _, tg := range targets {
		var block bytes.Buffer
		enc := hpack.NewEncoder(&block)
		for _, f := range [][2]string{
			{":method", "POST"}, {":scheme", "https"}, {":authority", addr}, {":path", "/" + tg.route},
			{"content-type", "application/json"}, {"accept", "application/json"},
			{"content-length", strconv.Itoa(len(tg.body))}, {"user-agent", "tollgate-bench"},
		} {
			enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1], Sensitive: true})
		}
		s.reqs = append(s.reqs, block.Bytes())
		s.bodies = append(s.bodies, tg.body)
		s.wants = append(s.wants, []byte(tg.want))
	}
	// The preface, our settings and the connection window, then the
	// server's settings (acknowledged in do as they come).
	s.out.WriteString(http2.ClientPreface)
	s.outFr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: h2Window},
		http2.Setting{ID: http2.SettingEnablePush, Val: 0})
	s.outFr.WriteWindowUpdate(0, h2Window-65535)
	if _, err := tc.Write(s.out.Bytes()); err != nil {
		tc.Close()
		return nil, fmt.Errorf("HTTP/2 preface: %w", err)
	}
	return s, nil
}

func (s *h2Sender) do(t int, body *bytes.Buffer) error {
	id := s.stream
	s.stream += 2
	if len(s.bodies[t]) > 16384 {
		return errors.New("request body larger than one HTTP/2 frame")
	}
	s.out.Reset()
	s.outFr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: s.reqs[t], EndHeaders: true})
	s.outFr.WriteData(id, true, s.bodies[t])
	if _, err := s.conn.Write(s.out.Bytes()); err != nil {
		return fmt.Errorf("sending: %w", err)
	}
	body.Reset()
	status := 0
	for {
		f, err := s.fr.ReadFrame()
		if err != nil {
			return fmt.Errorf("reading the answer: %w", err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				if err := s.fr.WriteSettingsAck(); err != nil {
					return fmt.Errorf("acknowledging settings: %w", err)
				}
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				if err := s.fr.WritePing(true, f.Data); err != nil {
					return fmt.Errorf("answering a ping: %w", err)
				}
			}
		case *http2.WindowUpdateFrame:
		case *http2.GoAwayFrame:
			return fmt.Errorf("the server ended the connection (GOAWAY %v)", f.ErrCode)
		case *http2.RSTStreamFrame:
			if f.StreamID == id {
				return fmt.Errorf("the server reset the stream (%v)", f.ErrCode)
			}
		case *http2.MetaHeadersFrame:
			if f.StreamID != id {
				continue
			}
			if v := f.PseudoValue("status"); v != "" {
				status, _ = strconv.Atoi(v)
			}
			if f.StreamEnded() {
				return checkAnswer(status, body.Bytes(), s.wants[t])
			}
		case *http2.DataFrame:
			if f.StreamID != id {
				continue
			}
			body.Write(f.Data())
			if f.StreamEnded() {
				return checkAnswer(status, body.Bytes(), s.wants[t])
			}
		}
	}
}

func (s *h2Sender) close() { s.conn.Close() }
