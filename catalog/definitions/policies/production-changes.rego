# Production changes need more scrutiny: a higher risk tier and a justification.
package ssops.production_changes

import rego.v1

prod if input.request.parameters.environment == "prod"

risk_tier := "high" if {
	prod
	input.template.name == "postgres-database"
} else := "medium" if prod

deny contains msg if {
	prod
	count(trim_space(input.request.justification)) < 20
	msg := sprintf("a change to production needs a justification of at least 20 characters (%d given)", [count(trim_space(input.request.justification))])
}
