package webhook

import (
	"context"
	"net/http"

	"github.com/tollgate-dev/tollgate/internal/policy"
)

// imagePolicy answers an ImageReview from the ImagePolicyWebhook plugin.
func (h *handler) imagePolicy(ctx context.Context, _ *call, body []byte) (reply, error) {
	rev, err := decodeImageReview(body)
	if err != nil {
		return reply{}, err
	}
	images := make([]string, len(rev.Spec.Containers))
	uses := make([]policy.ImageUse, len(rev.Spec.Containers))
	for i, c := range rev.Spec.Containers {
		images[i] = c.Image
		uses[i] = policy.ImageUse{Image: c.Image}
	}
	pol := h.opts.Policy()
	d := pol.ReviewImages(rev.Spec.Namespace, images, rev.Spec.Annotations)
	h.gateReview(ctx, pol, &d, rev.Spec.Namespace, uses, rev.Spec.Annotations)
	st := imageReviewStatus{Allowed: d.Allowed(), AuditAnnotations: d.AuditAnnotations(true)}
	decision := decisionAllow
	if !st.Allowed {
		reason := shorten(d.Reason(), maxReason)
		st.Reason = "tollgate: " + reason
		decision = decisionDeny
		h.log.Info("denied", "route", routeImagePolicy, "namespace", rev.Spec.Namespace, "reason", reason)
	}
	return reply{code: http.StatusOK, body: newImageReviewResponse(st), decision: decision}, nil
}

// gateReview adds the findings of the rules that need the image itself
// (vulnerabilities, image checks, signatures) to d; images no such rule
// applies to never reach the registry.
func (h *handler) gateReview(ctx context.Context, pol *policy.Policy, d *policy.Decision, namespace string, uses []policy.ImageUse, annotations map[string]string) {
	pol.AddImageFindings(d, annotations, h.gate.Review(ctx, pol, namespace, uses)...)
}
