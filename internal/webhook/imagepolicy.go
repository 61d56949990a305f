package webhook

import (
	"context"
	"net/http"
)

// imagePolicy answers an ImageReview from the ImagePolicyWebhook plugin.
func (h *handler) imagePolicy(_ context.Context, _ *call, body []byte) (reply, error) {
	rev, err := decodeImageReview(body)
	if err != nil {
		return reply{}, err
	}
	images := make([]string, len(rev.Spec.Containers))
	for i, c := range rev.Spec.Containers {
		images[i] = c.Image
	}
	pol := h.opts.Policy()
	d := pol.ReviewImages(rev.Spec.Namespace, images, rev.Spec.Annotations)
	st := imageReviewStatus{Allowed: d.Allowed(), AuditAnnotations: d.AuditAnnotations(true)}
	decision := decisionAllow
	if !st.Allowed {
		reason := d.Reason()
		st.Reason = "tollgate: " + reason
		decision = decisionDeny
		h.log.Info("denied", "route", routeImagePolicy, "namespace", rev.Spec.Namespace, "reason", reason)
	}
	return reply{code: http.StatusOK, body: newImageReviewResponse(st), decision: decision}, nil
}
