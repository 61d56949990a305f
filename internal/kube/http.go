package kube

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// DefaultMaxBodyBytes is the default limit of a POST /scan body. Manifests
// are kilobytes; 2 MiB leaves room for big generated ones while a request
// cannot make the server hold hundreds of megabytes.
const DefaultMaxBodyBytes = 2 << 20

// HandlerOptions configure NewHandler.
type HandlerOptions struct {
	// MaxBodyBytes is the largest body accepted; larger ones get 413.
	// Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

// APIFileName is the fileName of reports made over HTTP, as in kubesec.
const APIFileName = "API"

// NewHandler returns the kubesec-style scanning endpoint: POST (or PUT) a
// YAML or JSON body and get the JSON array of reports, status 200 whatever
// the scores; a document that does not decode gets its own invalid report.
// An empty body, or one without any document, gets 400 and a JSON error; a
// body over the limit gets 413. GET returns a short usage text. The handler
// does not look at the path, so it can be mounted at "/" and "/scan" alike.
func NewHandler(s *Scanner, opts HandlerOptions) http.Handler {
	limit := opts.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	return &handler{s: s, limit: limit}
}

type handler struct {
	s     *Scanner
	limit int64
}

const usage = `tollgate kube http: security scoring of Kubernetes manifests (kubesec-compatible)

  curl -sS --data-binary @deployment.yaml http://HOST/scan

POST a YAML stream or JSON to /scan; the reply is a JSON array with one report per document.
`

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, usage)
		return
	case http.MethodPost, http.MethodPut:
	default:
		w.Header().Set("Allow", "GET, HEAD, POST, PUT")
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed", r.Method))
		return
	}
	if r.ContentLength > h.limit {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", h.limit))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.limit))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", h.limit))
			return
		}
		writeError(w, http.StatusBadRequest, fmt.Sprintf("reading body: %v", err))
		return
	}
	// curl --data file=@x sends the file after a "file=" prefix; kubesec
	// strips it, so do we.
	body = bytes.TrimPrefix(body, []byte("file="))
	if len(bytes.TrimSpace(body)) == 0 {
		writeError(w, http.StatusBadRequest, "empty body: POST a YAML or JSON manifest")
		return
	}
	reports := h.s.Scan(body, APIFileName)
	if len(reports) == 0 {
		writeError(w, http.StatusBadRequest, "the body holds no YAML or JSON document")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	WriteJSON(w, reports) // an error here is the client going away
}

func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{strings.TrimSpace(msg)})
	w.Write(append(b, '\n'))
}
