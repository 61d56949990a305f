package image

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"
	"syscall"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// RegistryError rephrases the connection errors go-containerregistry
// returns (one per scheme it tried, each naming the URL and socket) as
// what went wrong, once per cause: "registry H cannot be reached:
// connection refused" — and an error status the registry answered as
// what it means ("not found at the registry (HTTP 404): manifest
// unknown"), without the request's URL and the HTTP client's wording.
func RegistryError(err error) error {
	if te := findStatus(err); te != nil {
		// The registry answered (on one of the schemes tried): that
		// answer is the news, not the scheme that failed to connect.
		return statusError(te)
	}
	var causes []string
	host := ""
	eachLeaf(err, func(e error) bool {
		ue, ok := e.(*url.Error)
		if !ok {
			return false
		}
		if u, perr := url.Parse(ue.URL); perr == nil && host == "" {
			host = u.Host
		}
		if c := connCause(ue.Err); !slices.Contains(causes, c) {
			causes = append(causes, c)
		}
		return true
	})
	if len(causes) == 0 {
		return err
	}
	return fmt.Errorf("registry %s cannot be reached: %s", host, strings.Join(causes, "; "))
}

func connCause(err error) string {
	var dns *net.DNSError
	var op *net.OpError
	var cert *tls.CertificateVerificationError
	var rec tls.RecordHeaderError
	switch {
	case errors.As(err, &dns):
		return "no such host"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "timed out"
	case errors.As(err, &cert):
		return "its TLS certificate is not trusted"
	case errors.As(err, &rec):
		return "it does not speak TLS (a plain HTTP registry off loopback needs --insecure)"
	case errors.As(err, &op):
		return op.Op + " failed"
	}
	var te *transport.Error
	if errors.As(err, &te) {
		return te.Error()
	}
	return err.Error()
}

// findStatus finds an error status the registry answered anywhere in
// err, joined errors and go-containerregistry's attempt lists included.
func findStatus(err error) *transport.Error {
	var found *transport.Error
	eachLeaf(err, func(e error) bool {
		if te, ok := e.(*transport.Error); ok && found == nil {
			found = te
			return true
		}
		return false
	})
	return found
}

// eachLeaf walks err's tree — joined errors, go-containerregistry's ping
// attempts (a slice type with As and Is but no Unwrap), wrapped errors —
// calling visit on each error until visit claims it (true), then not
// below it.
func eachLeaf(err error, visit func(error) bool) {
	if err == nil || visit(err) {
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, x := range j.Unwrap() {
			eachLeaf(x, visit)
		}
		return
	}
	if v := reflect.ValueOf(err); v.Kind() == reflect.Slice {
		for i := range v.Len() {
			if x, ok := v.Index(i).Interface().(error); ok {
				eachLeaf(x, visit)
			}
		}
		return
	}
	eachLeaf(errors.Unwrap(err), visit)
}

// statusError words an error status of the registry.
func statusError(te *transport.Error) error {
	var what string
	switch te.StatusCode {
	case http.StatusNotFound:
		what = "not found at the registry"
	case http.StatusUnauthorized:
		what = "the registry wants credentials (give them with the Docker config or --registry-config)"
	case http.StatusForbidden:
		what = "the registry refused access"
	case http.StatusTooManyRequests:
		what = "the registry is limiting requests"
	default:
		what = "the registry answered " + http.StatusText(te.StatusCode)
	}
	msg := fmt.Sprintf("%s (HTTP %d)", what, te.StatusCode)
	var codes []string
	for _, d := range te.Errors {
		c := strings.ToLower(strings.ReplaceAll(string(d.Code), "_", " "))
		if d.Message != "" && !strings.EqualFold(d.Message, c) {
			c += ": " + d.Message
		}
		if len(c) > 200 {
			c = c[:200] + "…"
		}
		if !slices.Contains(codes, c) {
			codes = append(codes, c)
		}
	}
	if len(codes) > 0 {
		msg += ": " + strings.Join(codes, "; ")
	}
	return errors.New(msg)
}
