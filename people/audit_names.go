package people

import (
	"context"
	"strings"
)

// auditNameQueries say how each kind of record an audit entry names is
// called, within the reader's LA (an id from elsewhere is never named).
var auditNameQueries = map[string]string{
	"staff":  `SELECT id, name FROM staff WHERE la_id = ? AND id IN (%s)`,
	"pupil":  `SELECT p.id, p.display_name || ' (' || p.pupil_number || ')' FROM pupils p JOIN schools s ON s.id = p.school_id WHERE s.la_id = ? AND p.id IN (%s)`,
	"school": `SELECT id, name FROM schools WHERE la_id = ? AND id IN (%s)`,
	"classroom": `SELECT c.id, c.name || ', ' || s.name FROM classrooms c JOIN schools s ON s.id = c.school_id
		WHERE s.la_id = ? AND c.id IN (%s)`,
	"parent": `SELECT DISTINCT pa.id, pa.name FROM parents pa JOIN parent_pupils pp ON pp.parent_id = pa.id JOIN pupils p ON p.id = pp.pupil_id
		JOIN schools s ON s.id = p.school_id WHERE s.la_id = ? AND pa.id IN (%s)`,
	"la": `SELECT id, name FROM local_authorities WHERE id = ? AND id IN (%s)`,
}

// AuditNames names the people and places audit entries refer to, as
// "kind/id" → name, for the reader of the audit log (ListAudit's check):
// staff, parents, pupils ("Kim (K1)"), schools, classrooms ("4 Elm,
// Oak School") and the LA. An erased pupil has no name any more: the log
// keeps bare ids.
func (s *Store) AuditNames(ctx context.Context, a Actor, entries []AuditEntry) (map[string]string, error) {
	if err := s.Authorize(ctx, a, ActAuditRead, Target{LAID: a.LAID}); err != nil {
		return nil, err
	}
	want := map[string]map[string]bool{}
	add := func(kind, id string) {
		if id == "" || auditNameQueries[kind] == "" {
			return
		}
		if want[kind] == nil {
			want[kind] = map[string]bool{}
		}
		want[kind][id] = true
	}
	for _, e := range entries {
		add(e.ActorKind, e.ActorID)
		add(e.TargetKind, e.TargetID)
		add("pupil", e.PupilID)
	}
	out := map[string]string{}
	for kind, ids := range want {
		list := make([]any, 0, len(ids))
		for id := range ids {
			list = append(list, id)
		}
		for len(list) > 0 {
			n := min(len(list), 500)
			q := strings.Replace(auditNameQueries[kind], "%s", "?"+strings.Repeat(", ?", n-1), 1)
			rows, err := s.q().Query(ctx, q, append([]any{a.LAID}, list[:n]...)...)
			if err != nil {
				return nil, err
			}
			for rows.Next() {
				var id, name string
				if err := rows.Scan(&id, &name); err != nil {
					rows.Close()
					return nil, err
				}
				out[kind+"/"+id] = name
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, err
			}
			list = list[n:]
		}
	}
	return out, nil
}
