package kube

import (
	"bytes"
	"encoding/json"
	"io"
)

// piece is one document of an input stream, before decoding.
type piece struct {
	line int    // 1-based line of the piece's first byte in the input
	data []byte // YAML (or JSON) text of exactly one document
	json bool   // data is a complete JSON value
}

// utf8BOM may precede a YAML or JSON stream.
const utf8BOM = "\xEF\xBB\xBF"

// splitStream cuts an input stream into its documents. A stream that is
// one JSON value, or a sequence of JSON objects, is split by a JSON decoder.
// Anything else is YAML, cut at its document markers: a line starting with
// "---" or "..." followed by a space, a tab, a comment or the line end (so
// "--- # comment", "--- " and CRLF line ends are separators too, which
// kubesec misses). YAML forbids those markers inside any content, so a
// line-based cut is exact, and it lets a broken document be reported on its
// own without losing the ones around it. Pieces that hold nothing but
// blanks, comments and directives are dropped.
func splitStream(data []byte) []piece {
	data = bytes.TrimPrefix(data, []byte(utf8BOM))
	if ps, ok := splitJSON(data); ok {
		return ps
	}
	return splitYAML(data)
}

// splitJSON splits data when it is JSON: one value, or objects one after
// the other (as jq prints them). ok is false when data is not JSON.
func splitJSON(data []byte) ([]piece, bool) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || (trimmed[0] != '{' && trimmed[0] != '[') {
		return nil, false
	}
	if json.Valid(data) {
		lead := len(data) - len(trimmed)
		return []piece{{line: 1 + bytes.Count(data[:lead], []byte("\n")), data: bytes.TrimSpace(data), json: true}}, true
	}
	if trimmed[0] != '{' {
		return nil, false
	}
	var ps []piece
	dec := json.NewDecoder(bytes.NewReader(data))
	line, counted := 1, 0
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if err == io.EOF {
			break
		}
		if err != nil || len(raw) == 0 || raw[0] != '{' {
			return nil, false
		}
		end := int(dec.InputOffset())
		start := end - len(raw)
		line += bytes.Count(data[counted:start], []byte("\n"))
		counted = start
		ps = append(ps, piece{line: line, data: raw, json: true})
	}
	return ps, len(ps) > 0
}

// splitYAML cuts a YAML stream at its document markers.
func splitYAML(data []byte) []piece {
	var ps []piece
	start, startLine := 0, 1
	emit := func(end int) {
		if hasContent(data[start:end]) {
			ps = append(ps, piece{line: startLine, data: data[start:end]})
		}
	}
	lineNo := 1
	for pos := 0; pos < len(data); {
		end, next := lineEnd(data, pos)
		switch marker(data[pos:end]) {
		case '-': // "---": a new document starts on this line
			emit(pos)
			start, startLine = pos, lineNo
		case '.': // "...": the current document ends before this line
			emit(pos)
			start, startLine = next, lineNo+1
		}
		pos = next
		lineNo++
	}
	if start < len(data) {
		emit(len(data))
	}
	return ps
}

// lineEnd returns the end of the line starting at pos (excluding its
// break) and the start of the next line. Line breaks are LF, CRLF or CR,
// as in YAML.
func lineEnd(data []byte, pos int) (end, next int) {
	i := bytes.IndexAny(data[pos:], "\r\n")
	if i < 0 {
		return len(data), len(data)
	}
	end = pos + i
	if data[end] == '\r' && end+1 < len(data) && data[end+1] == '\n' {
		return end, end + 2
	}
	return end, end + 1
}

// marker reports whether line is a document marker: '-' for "---", '.'
// for "...", 0 otherwise.
func marker(line []byte) byte {
	if len(line) < 3 {
		return 0
	}
	var m byte
	switch {
	case bytes.HasPrefix(line, []byte("---")):
		m = '-'
	case bytes.HasPrefix(line, []byte("...")):
		m = '.'
	default:
		return 0
	}
	if len(line) == 3 || line[3] == ' ' || line[3] == '\t' {
		return m
	}
	return 0
}

// hasContent reports whether a piece holds anything besides blank lines,
// comments, directives and a bare "---" marker.
func hasContent(p []byte) bool {
	for pos := 0; pos < len(p); {
		end, next := lineEnd(p, pos)
		line := p[pos:end]
		if marker(line) == '-' {
			line = line[3:]
		} else if len(line) > 0 && line[0] == '%' {
			line = nil // a directive
		}
		line = bytes.TrimLeft(line, " \t")
		if len(line) > 0 && line[0] != '#' {
			return true
		}
		pos = next
	}
	return false
}
