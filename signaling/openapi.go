package signaling

import (
	"regexp"
	"strconv"
	"strings"

	"seatlink/people"
)

var ginParam = regexp.MustCompile(`:([a-z_]+)`)

// openAPI builds the OpenAPI 3 document from the route table, so it lists
// exactly what is served (a test compares it with Gin's routes).
func (s *Server) openAPI() map[string]any {
	paths := map[string]map[string]any{}
	for _, r := range s.apiRoutes() {
		path := ginParam.ReplaceAllString(r.Path, "{$1}")
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		var params []map[string]any
		for _, m := range ginParam.FindAllStringSubmatch(r.Path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true,
				"schema": map[string]string{"type": "string"}})
		}
		for _, q := range r.Query {
			params = append(params, map[string]any{"name": q, "in": "query", "required": false,
				"schema": map[string]string{"type": "string"}})
		}
		status := r.Status
		if status == 0 {
			status = 200
		}
		op := map[string]any{
			"summary":     r.Summary,
			"operationId": strings.ToLower(r.Method) + strings.NewReplacer("/api/v1", "", "/", "_", ":", "by_", "-", "_").Replace(r.Path),
			"responses": map[string]any{
				strconv.Itoa(status): map[string]string{"description": "success"},
				"400":                map[string]any{"$ref": "#/components/responses/Error"},
				"401":                map[string]any{"$ref": "#/components/responses/Error"},
				"403":                map[string]any{"$ref": "#/components/responses/Error"},
				"404":                map[string]any{"$ref": "#/components/responses/Error"},
			},
		}
		if params != nil {
			op["parameters"] = params
		}
		if r.Body != "" {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": map[string]string{"type": "object", "title": r.Body}}}}
		}
		if r.Public {
			op["security"] = []any{}
			op["x-roles"] = []string{"public"}
		} else {
			roles := []string{"admin", "ewo", "parent", "pupil", "teacher"}
			if r.Action != "" {
				roles = nil
				for _, role := range people.RolesFor(r.Action) {
					roles = append(roles, string(role))
				}
				op["x-action"] = string(r.Action)
			}
			op["x-roles"] = roles
		}
		paths[path][strings.ToLower(r.Method)] = op
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "Seatlink API", "version": "1",
			"description": "Every route lists the roles allowed (x-roles); each role is further limited to its scope " +
				"(its LA, school, caseload, children or self). State-changing requests need the X-CSRF-Token header " +
				"from GET /api/v1/session."},
		"paths": paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{"session": map[string]string{"type": "apiKey", "in": "cookie", "name": sessionCookie}},
			"responses": map[string]any{"Error": map[string]any{"description": "an error with a stable code",
				"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{
					"type": "object", "properties": map[string]any{"error": map[string]any{"type": "object",
						"properties": map[string]any{"code": map[string]string{"type": "string"},
							"message": map[string]string{"type": "string"}}}}}}}}},
		},
		"security": []any{map[string][]string{"session": {}}},
	}
}
