# Tell the requester when a request uses up most of the team's monthly budget.
package ssops.budget_guard

import rego.v1

warn contains msg if {
	limit := input.usage.budget.limit
	limit > 0
	share := ((input.usage.budget.spent + input.request.cost) * 100) / limit
	share >= 80
	msg := sprintf("this request brings team %s to %d%% of its monthly budget", [input.team.slug, round(share)])
}
