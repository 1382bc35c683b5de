// Package packaging holds the static checks of Seatlink's deployment files
// (issue 20, part 1), run by deploy/packaging/check.sh from the test
// command. No Docker engine or cluster is needed:
//
//   - deploy/build.sh, the Dockerfile's build, builds static binaries with
//     the flags the Dockerfile promises, and the image's binary starts
//     with the image's settings, answers the HEALTHCHECK and drains on
//     SIGTERM within its grace;
//   - the compose file matches the Compose Specification's JSON schema
//     (vendored in deploy/compose/schema);
//   - the Kubernetes overlay, built with kustomize, passes kubeconform
//     -strict against schemas made from Kubernetes' own OpenAPI document
//     and the Prometheus Operator's ServiceMonitor CRD;
//   - the systemd units pass systemd-analyze verify with no warning;
//   - every SEATLINK_* name in the Dockerfile, the compose file, the
//     Kubernetes ConfigMap and Secret, and the systemd environment is a
//     serve setting whose value serve accepts, and every stop timeout is
//     longer than the drain.
//
// It is a module of its own so its YAML and JSON-schema libraries stay out
// of the seatlink module; it reads serve's settings from seatlink's own
// internal/config through a replace directive.
//
// Under CI=true a missing tool fails the test; elsewhere it skips.
package packaging
