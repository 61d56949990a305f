package policy

import (
	"fmt"

	"github.com/tollgate-dev/tollgate/internal/kube"
)

// KubesecScorer scores objects with tollgate's kubesec-compatible scanner,
// so that admission and `tollgate kube scan` compute the same score.
type KubesecScorer struct {
	Scanner *kube.Scanner
}

var _ Scorer = KubesecScorer{}

// Score scores one JSON object.
func (k KubesecScorer) Score(object []byte) (Score, error) {
	reports := k.Scanner.Scan(object, kube.APIFileName)
	if len(reports) != 1 {
		return Score{}, fmt.Errorf("scanning gave %d reports, want 1", len(reports))
	}
	r := reports[0]
	if !r.Valid {
		msg := r.Message
		for _, p := range r.Problems {
			msg = p.String()
			break
		}
		return Score{Message: msg}, nil
	}
	s := Score{Valid: true, Score: r.Score}
	for _, c := range r.Scoring.Critical {
		s.Critical = append(s.Critical, ScoreItem{ID: c.ID, Selector: c.Selector, Reason: c.Reason, Points: c.Points, Path: c.Path})
	}
	return s, nil
}
