package webhook

import (
	"encoding/json"
	"errors"
	"fmt"

	kjson "sigs.k8s.io/json"

	"github.com/tollgate-dev/tollgate/internal/policy"
)

// The API versions and kinds tollgate answers. The apiserver requires the
// response to carry the same apiVersion and kind as the request.
const (
	imageReviewAPIVersion     = "imagepolicy.k8s.io/v1alpha1"
	imageReviewKind           = "ImageReview"
	admissionReviewAPIVersion = "admission.k8s.io/v1"
	admissionReviewKind       = "AdmissionReview"
)

// errMalformed marks request bodies that do not decode to the expected
// review; they are answered with HTTP 400 and a well-formed review body.
var errMalformed = errors.New("malformed review")

// imageReviewRequest is the part of an ImageReview
// (imagepolicy.k8s.io/v1alpha1) tollgate reads; field names as in
// k8s.io/api/imagepolicy/v1alpha1, which the tests decode with.
type imageReviewRequest struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Spec       struct {
		Containers []struct {
			Image string `json:"image"`
		} `json:"containers"`
		Annotations map[string]string `json:"annotations"`
		Namespace   string            `json:"namespace"`
	} `json:"spec"`
}

// decodeImageReview parses an ImageReview request body.
func decodeImageReview(body []byte) (*imageReviewRequest, error) {
	var r imageReviewRequest
	if err := kjson.UnmarshalCaseSensitivePreserveInts(body, &r); err != nil {
		return nil, fmt.Errorf("%w: decoding ImageReview: %s", errMalformed, policy.JSONErrorText(err, "the body"))
	}
	if r.APIVersion != imageReviewAPIVersion || r.Kind != imageReviewKind {
		return nil, fmt.Errorf("%w: got apiVersion %q kind %q, want %s %s", errMalformed, r.APIVersion, r.Kind, imageReviewAPIVersion, imageReviewKind)
	}
	for i, c := range r.Spec.Containers {
		if c.Image == "" {
			return nil, fmt.Errorf("%w: spec.containers[%d].image is empty", errMalformed, i)
		}
	}
	return &r, nil
}

// admissionRequest is the part of an AdmissionReview (admission.k8s.io/v1)
// request tollgate reads; field names as in k8s.io/api/admission/v1. The
// object stays raw: the policy decodes it (and kubesec scores it) itself.
type admissionRequest struct {
	UID  string `json:"uid"`
	Kind struct {
		Group   string `json:"group"`
		Version string `json:"version"`
		Kind    string `json:"kind"`
	} `json:"kind"`
	SubResource string          `json:"subResource"`
	Name        string          `json:"name"`
	Namespace   string          `json:"namespace"`
	Operation   string          `json:"operation"`
	Object      json.RawMessage `json:"object"`
}

type admissionReviewRequest struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Request    *admissionRequest `json:"request"`
}

// decodeAdmissionReview parses an AdmissionReview request body. The uid is
// returned even when the rest is malformed, so the error response can echo it.
func decodeAdmissionReview(body []byte) (*admissionRequest, string, error) {
	var r admissionReviewRequest
	if err := kjson.UnmarshalCaseSensitivePreserveInts(body, &r); err != nil {
		return nil, "", fmt.Errorf("%w: decoding AdmissionReview: %s", errMalformed, policy.JSONErrorText(err, "the body"))
	}
	uid := ""
	if r.Request != nil {
		uid = r.Request.UID
	}
	if r.APIVersion != admissionReviewAPIVersion || r.Kind != admissionReviewKind {
		return nil, uid, fmt.Errorf("%w: got apiVersion %q kind %q, want %s %s", errMalformed, r.APIVersion, r.Kind, admissionReviewAPIVersion, admissionReviewKind)
	}
	if r.Request == nil {
		return nil, uid, fmt.Errorf("%w: no request", errMalformed)
	}
	if uid == "" {
		return nil, uid, fmt.Errorf("%w: request.uid is empty", errMalformed)
	}
	if string(r.Request.Object) == "null" {
		r.Request.Object = nil
	}
	return r.Request, uid, nil
}

// imageReviewResponse is the ImageReview tollgate sends back. The apiserver
// reads only status; spec is left out.
type imageReviewResponse struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Status     imageReviewStatus `json:"status"`
}

type imageReviewStatus struct {
	Allowed          bool              `json:"allowed"`
	Reason           string            `json:"reason,omitempty"`
	AuditAnnotations map[string]string `json:"auditAnnotations,omitempty"`
}

func newImageReviewResponse(s imageReviewStatus) imageReviewResponse {
	return imageReviewResponse{APIVersion: imageReviewAPIVersion, Kind: imageReviewKind, Status: s}
}

// admissionReviewResponse is the AdmissionReview tollgate sends back: only
// response, with the request's uid.
type admissionReviewResponse struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Response   admissionResponse `json:"response"`
}

type admissionResponse struct {
	UID     string  `json:"uid"`
	Allowed bool    `json:"allowed"`
	Status  *status `json:"status,omitempty"`
	// Patch is base64 in JSON (a []byte), as the API defines it.
	Patch            []byte            `json:"patch,omitempty"`
	PatchType        string            `json:"patchType,omitempty"`
	AuditAnnotations map[string]string `json:"auditAnnotations,omitempty"`
	Warnings         []string          `json:"warnings,omitempty"`
}

// status is the part of metav1.Status the apiserver reads. code is always
// set: the apiserver turns 0 into 403 but other implementations differ.
type status struct {
	Code    int    `json:"code"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message"`
}

func newAdmissionReviewResponse(r admissionResponse) admissionReviewResponse {
	return admissionReviewResponse{APIVersion: admissionReviewAPIVersion, Kind: admissionReviewKind, Response: r}
}

// denied is an AdmissionReview response refusing the request with 403.
func denied(uid, msg string) admissionResponse {
	return admissionResponse{UID: uid, Status: &status{Code: 403, Reason: "Forbidden", Message: msg}}
}

// failed is an AdmissionReview response for a request tollgate could not
// judge (code is the HTTP status sent with it).
func failed(uid string, code int, reason, msg string) admissionResponse {
	return admissionResponse{UID: uid, Status: &status{Code: code, Reason: reason, Message: msg}}
}
