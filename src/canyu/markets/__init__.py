"""Markets: public indicators per country and year, a three-criteria scorer ranked as of any
year and judged by history, and the team's record of opened markets."""
