package webhook

import (
	"context"
	"fmt"
	"net/http"

	"github.com/tollgate-dev/tollgate/internal/policy"
)

// validate answers an AdmissionReview from the ValidatingAdmissionWebhook plugin.
func (h *handler) validate(ctx context.Context, c *call, body []byte) (reply, error) {
	req, uid, err := decodeAdmissionReview(body)
	c.uid = uid
	if err != nil {
		return reply{}, err
	}
	allow := reply{code: http.StatusOK, body: newAdmissionReviewResponse(admissionResponse{UID: uid, Allowed: true}), decision: decisionAllow}
	if !reviewed(req.Operation, req.SubResource) || !policy.IsWorkloadKind(req.Kind.Kind) {
		return allow, nil
	}
	raw := req.Object
	if len(raw) == 0 {
		return reply{}, fmt.Errorf("%w: request.object is missing", errMalformed)
	}
	w, _, err := policy.DecodeWorkload(req.Kind.Kind, raw)
	if err != nil {
		return reply{}, fmt.Errorf("%w: request.object: %v", errMalformed, err)
	}
	pol := h.opts.Policy()
	d, err := pol.ReviewWorkload(w, req.Namespace, raw, h.opts.Scorer)
	if err != nil {
		return reply{}, err
	}
	ns := req.Namespace
	if ns == "" {
		ns = w.Namespace
	}
	h.gateReview(ctx, pol, &d, ns, w.Images, w.Annotations)
	resp := admissionResponse{UID: uid, Allowed: true}
	decision := decisionAllow
	if !d.Allowed() {
		reason := shorten(d.Reason(), maxReason)
		resp = denied(uid, "tollgate: "+reason)
		decision = decisionDeny
		h.log.Info("denied", "route", routeValidate, "kind", req.Kind.Kind, "namespace", req.Namespace, "name", req.Name, "reason", reason)
	}
	resp.Warnings, resp.AuditAnnotations = shortenAll(d.Warnings(), maxWarning), d.AuditAnnotations(false)
	return reply{code: http.StatusOK, body: newAdmissionReviewResponse(resp), decision: decision}, nil
}

// reviewed reports whether /validate looks at an operation: creates and
// updates of the object itself or of its ephemeral containers.
func reviewed(op, sub string) bool {
	if op != "CREATE" && op != "UPDATE" {
		return false
	}
	return sub == "" || sub == "ephemeralcontainers"
}
