package kube

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/inflight"
)

// DefaultMaxBodyBytes is the default limit of a POST /scan body. Manifests
// are kilobytes; 2 MiB leaves room for big generated ones while a request
// cannot make the server hold hundreds of megabytes.
const DefaultMaxBodyBytes = 2 << 20

// DefaultMaxDocuments is the default limit of documents (reports) per
// POST /scan: a 2 MiB body of tiny Pods holds ~18,000 of them, whose reply
// would be ~70 MB.
const DefaultMaxDocuments = 1000

// DefaultMaxInflightBytes is the default of request bytes `kube http`
// holds at once: four bodies at the default cap (scanning is CPU-bound, so
// more at once only slows every request down), thousands of usual ones.
const DefaultMaxInflightBytes = 8 << 20

// HandlerOptions configure NewHandler.
type HandlerOptions struct {
	// MaxBodyBytes is the largest body accepted; larger ones get 413.
	// Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxDocuments is the most documents one request may hold; more get
	// 413. Zero means DefaultMaxDocuments.
	MaxDocuments int
	// Inflight bounds the body bytes of all requests together (shared
	// with other handlers of the server); a body that does not fit gets
	// 429 with Retry-After. Nil: unbounded.
	Inflight *inflight.Budget
}

// APIFileName is the fileName of reports made over HTTP, as in kubesec.
const APIFileName = "API"

// NewHandler returns the kubesec-style scanning endpoint: POST (or PUT) a
// YAML or JSON body and get the JSON array of reports, status 200 whatever
// the scores; a document that does not decode gets its own invalid report.
// An empty body, or one without any document, gets 400 and a JSON error; a
// body over the limit gets 413. GET returns a short usage text. The handler
// does not look at the path, so it can be mounted at "/" and "/scan" alike.
//
// Work stops when the client goes away; at most MaxDocuments reports are
// made (more: 413), so the reply is bounded too.
func NewHandler(s *Scanner, opts HandlerOptions) http.Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxDocuments <= 0 {
		opts.MaxDocuments = DefaultMaxDocuments
	}
	return &handler{s: s, limit: opts.MaxBodyBytes, maxDocs: opts.MaxDocuments, budget: opts.Inflight}
}

type handler struct {
	s       *Scanner
	limit   int64
	maxDocs int
	budget  *inflight.Budget
}

// errTooManyDocuments stops a scan past the document limit.
var errTooManyDocuments = errors.New("too many documents")

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
	lease := h.budget.Lease()
	defer lease.Release()
	var buf bytes.Buffer
	body, err := inflight.ReadBody(w, r, h.limit, lease, &buf)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", h.limit))
			return
		}
		if errors.Is(err, inflight.ErrBusy) {
			w.Header().Set("Retry-After", inflight.RetryAfter)
			writeError(w, http.StatusTooManyRequests, "the server is busy with other requests; retry shortly")
			return
		}
		// The error names the connection's addresses: keep them out.
		writeError(w, http.StatusBadRequest, "the request body could not be read to its end")
		return
	}
	// curl --data file=@x sends the file after a "file=" prefix; kubesec
	// strips it, so do we.
	body = bytes.TrimPrefix(body, []byte("file="))
	if len(bytes.TrimSpace(body)) == 0 {
		writeError(w, http.StatusBadRequest, "empty body: POST a YAML or JSON manifest")
		return
	}
	ctx := r.Context()
	var reports []Report
	err = h.s.ScanFunc(body, APIFileName, func(rep *Report) error {
		if err := ctx.Err(); err != nil {
			return err // the client has gone
		}
		if len(reports) == h.maxDocs {
			return errTooManyDocuments
		}
		reports = append(reports, *rep)
		return nil
	})
	switch {
	case errors.Is(err, errTooManyDocuments):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("more than %d documents in one request: split the input", h.maxDocs))
		return
	case err != nil:
		return // nobody is listening
	case len(reports) == 0:
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
