package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tollgate-dev/tollgate/internal/policy"
)

// mutate answers an AdmissionReview from the MutatingAdmissionWebhook
// plugin: Pods at creation get the policy's mutations as a JSON Patch.
func (h *handler) mutate(ctx context.Context, c *call, body []byte) (reply, error) {
	req, uid, err := decodeAdmissionReview(body)
	c.uid = uid
	if err != nil {
		return reply{}, err
	}
	allow := reply{code: http.StatusOK, body: newAdmissionReviewResponse(admissionResponse{UID: uid, Allowed: true}), decision: decisionAllow}
	if req.Kind.Kind != "Pod" || req.Operation != "CREATE" || req.SubResource != "" {
		return allow, nil
	}
	raw := req.Object
	if len(raw) == 0 {
		return reply{}, fmt.Errorf("%w: request.object is missing", errMalformed)
	}
	pol := h.opts.Policy()
	var warnings []string
	var digests map[string]string
	if h.opts.Resolver != nil {
		w, _, err := policy.DecodeWorkload("Pod", raw)
		if err != nil {
			return reply{}, fmt.Errorf("%w: request.object: %v", errMalformed, err)
		}
		if images := pol.Pinnable(req.Namespace, w); len(images) > 0 {
			_, secs := pol.PinDigests()
			if secs <= 0 {
				secs = 3
			}
			// The resolver caches each answer: /validate and
			// /image_policy decide on the pinned digest without a
			// second look-up.
			digests, warnings = h.resolve(ctx, images, time.Duration(secs)*time.Second)
		}
	}
	m, err := pol.Mutate(req.Namespace, raw, digests)
	if err != nil {
		return reply{}, fmt.Errorf("%w: request.object: %v", errMalformed, err)
	}
	resp := admissionResponse{UID: uid, Allowed: true, Warnings: warnings}
	if len(m.Patch) == 0 {
		return reply{code: http.StatusOK, body: newAdmissionReviewResponse(resp), decision: decisionAllow}, nil
	}
	patch, err := json.Marshal(m.Patch)
	if err != nil {
		return reply{}, fmt.Errorf("encoding patch: %w", err)
	}
	resp.Patch, resp.PatchType = patch, "JSONPatch"
	resp.AuditAnnotations = map[string]string{"mutations": strings.Join(m.Changes, "; ")}
	return reply{code: http.StatusOK, body: newAdmissionReviewResponse(resp), decision: decisionPatch}, nil
}

// resolve looks up digests for images concurrently within timeout. Images
// that fail are left as they are, with a warning each: pinning is a
// convenience, and /validate judges the result.
func (h *handler) resolve(ctx context.Context, images []string, timeout time.Duration) (map[string]string, []string) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type result struct {
		image, digest string
		err           error
	}
	results := make([]result, len(images))
	var wg sync.WaitGroup
	for i, img := range images {
		wg.Go(func() {
			d, err := h.opts.Resolver.Digest(ctx, img)
			results[i] = result{img, d, err}
		})
	}
	wg.Wait()
	digests := map[string]string{}
	var warnings []string
	for _, r := range results {
		if r.err != nil {
			h.log.Warn("digest resolution failed", "image", r.image, "error", r.err)
			warnings = append(warnings, shorten(fmt.Sprintf("tollgate: %s not pinned: %v", r.image, r.err), 200))
			continue
		}
		digests[r.image] = r.digest
	}
	return digests, warnings
}

// Message limits: the apiserver may truncate long denial messages
// ("Kubernetes may truncate excessively long errors") and truncates
// warnings past 256 characters; tollgate cuts them itself, at a character
// boundary, so that what is shown ends with a visible "...".
const (
	maxReason  = 2048
	maxWarning = 256
)

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - 3
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// shortenAll cuts each warning to n bytes; digests are first shortened to
// their first 12 hex digits, so that what the apiserver shows keeps the
// reason rather than 64 hex digits.
func shortenAll(list []string, n int) []string {
	for i, s := range list {
		if len(s) > n {
			s = longDigest.ReplaceAllString(s, "sha256:$1…")
		}
		list[i] = shorten(s, n)
	}
	return list
}

var longDigest = regexp.MustCompile(`sha256:([0-9a-f]{12})[0-9a-f]{52}`)
