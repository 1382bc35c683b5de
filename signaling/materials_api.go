package signaling

// Lesson material's routes: attaching it to a plan phase, uploads
// (streamed), the classroom's and the pupil's lists, short-lived links,
// deleting, and the local store's signed downloads (/files/).

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"seatlink/materials"
	"seatlink/people"
)

// materialRoutes are lesson material: uploading, listing, linking,
// deleting, and attaching it to a plan phase.
func (s *Server) materialRoutes() []apiRoute {
	return []apiRoute{
		{Method: "POST", Path: "/api/v1/plan-phases/:phase/materials", Summary: "Attach a material to a plan phase",
			Action: people.ActPlanEdit, Body: "MaterialRef", handle: func(c *gin.Context, a people.Actor) (any, error) {
				var in struct {
					MaterialID string `json:"material_id"`
				}
				if err := decodeJSON(c, &in); err != nil {
					return nil, err
				}
				return gin.H{"ok": true}, s.deps.Materials.AttachToPhase(c.Request.Context(), a, c.Param("phase"), in.MaterialID)
			}},
		{Method: "POST", Path: "/api/v1/classrooms/:classroom/materials",
			Summary: "Upload lesson material: the file is the body, streamed; title, subject, lesson_date, phase_id and filename in the query",
			Action:  people.ActMaterialUpload, Body: "File", Status: 201,
			Query: []string{"title", "subject", "lesson_date", "phase_id", "filename"}, handle: s.uploadMaterial},
		{Method: "GET", Path: "/api/v1/classrooms/:classroom/materials", Summary: "A classroom's lesson material",
			Action: people.ActMaterialView, handle: func(c *gin.Context, a people.Actor) (any, error) {
				return s.deps.Materials.ForClassroom(c.Request.Context(), a, c.Param("classroom"))
			}},
		{Method: "GET", Path: "/api/v1/pupils/:pupil/materials", Summary: "What a pupil may read: missed lessons first",
			Action: people.ActMaterialView, handle: func(c *gin.Context, a people.Actor) (any, error) {
				return s.deps.Materials.ForPupil(c.Request.Context(), a, c.Param("pupil"))
			}},
		{Method: "GET", Path: "/api/v1/materials/:material/link", Summary: "A download link that works for a few minutes (redirect=1 to follow it)",
			Action: people.ActMaterialView, Query: []string{"redirect"}, handle: func(c *gin.Context, a people.Actor) (any, error) {
				l, err := s.deps.Materials.Link(c.Request.Context(), a, c.Param("material"))
				if err != nil {
					return nil, err
				}
				if c.Query("redirect") == "1" {
					c.Redirect(http.StatusFound, l.URL)
					return nil, errHandled
				}
				return l, nil
			}},
		{Method: "DELETE", Path: "/api/v1/materials/:material", Summary: "Delete a material and its file",
			Action: people.ActMaterialDelete, handle: func(c *gin.Context, a people.Actor) (any, error) {
				return gin.H{"ok": true}, s.deps.Materials.Delete(c.Request.Context(), a, c.Param("material"))
			}},
	}
}

func (s *Server) uploadMaterial(c *gin.Context, a people.Actor) (any, error) {
	in := materials.Input{ClassroomID: c.Param("classroom"), Title: c.Query("title"), Subject: c.Query("subject"),
		LessonDate: c.Query("lesson_date"), PhaseID: c.Query("phase_id"), Filename: c.Query("filename")}
	if strings.HasPrefix(c.GetHeader("Content-Type"), "multipart/") {
		return nil, apiErr(http.StatusUnsupportedMediaType, "bad_content_type", "send the file itself as the body, not a form")
	}
	return s.deps.Materials.Upload(c.Request.Context(), a, in, c.Request.Body)
}

// routeFiles serves the local store's signed links (the MinIO store's
// links go to MinIO itself). A file is sent as a download, never rendered
// in the gateway's origin.
func (s *Server) routeFiles(e *gin.Engine) {
	if s.deps.Materials == nil {
		return
	}
	e.GET("/files/*key", func(c *gin.Context) {
		q := c.Request.URL.Query()
		f, mat, err := s.deps.Materials.OpenLocal(c.Request.Context(), strings.TrimPrefix(c.Param("key"), "/"), q.Get("name"), q.Get("exp"), q.Get("sig"))
		switch {
		case errors.Is(err, materials.ErrLinkExpired):
			writeHTTPError(c, http.StatusGone, "expired", "this download link has expired; ask for a new one")
			return
		case errors.Is(err, materials.ErrBadLink):
			writeHTTPError(c, http.StatusForbidden, "bad_link", "this download link is not valid")
			return
		case err != nil:
			writeHTTPError(c, http.StatusNotFound, "not_found", "no such file")
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			writeHTTPError(c, http.StatusNotFound, "not_found", "no such file")
			return
		}
		h := c.Writer.Header()
		h.Set("Content-Type", mat.ContentType)
		h.Set("Content-Disposition", materials.ContentDisposition(mat.Filename))
		h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
		h.Set("Cache-Control", "private, no-store")
		http.ServeContent(c.Writer, c.Request, "", st.ModTime(), f)
	})
}
