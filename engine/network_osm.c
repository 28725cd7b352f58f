/* network_osm.c: the OSM walkable default of METRICS.md §5, as an SQL filter and as a predicate. */
#include <stddef.h>
#include <string.h>

#include "planmetrics/network.h"

/* §5: highway in the walkable set; cycleway, motorway(_link) and trunk(_link) only with foot
 * yes/designated; access private/no excluded unless foot yes/designated (the more specific tag
 * wins); foot=no and area=yes excluded; every other highway value excluded. A tag absent is NULL
 * in the table, hence the IS NULL tests (NULL <> 'no' is not true in SQL). */
#define WALKABLE_BASE                                                                              \
  "'footway', 'pedestrian', 'path', 'steps', 'living_street', 'residential', 'service', "         \
  "'unclassified', 'track', 'tertiary', 'tertiary_link', 'secondary', 'secondary_link', "         \
  "'primary', 'primary_link'"
#define WALKABLE_IF_FOOT "'cycleway', 'motorway', 'motorway_link', 'trunk', 'trunk_link'"

static const char *const walkable_where =
    "highway IN (" WALKABLE_BASE ", " WALKABLE_IF_FOOT ")"
    " AND (foot IS NULL OR foot <> 'no')"
    " AND (area IS NULL OR area <> 'yes')"
    " AND (foot IN ('yes', 'designated')"
    " OR (highway IN (" WALKABLE_BASE ") AND (access IS NULL OR access NOT IN ('private', 'no'))))";

const char *pm_network_osm_walkable_where(void) { return walkable_where; }

const char *const *pm_network_osm_walkable_fields(void) {
  static const char *const fields[] = {"highway", "foot", "access", "area", NULL};
  return fields;
}

static int one_of(const char *v, const char *const *set) {
  for (; v && *set; set++)
    if (strcmp(v, *set) == 0) return 1;
  return 0;
}

int pm_network_osm_walkable(const char *highway, const char *foot, const char *access,
                            const char *area) {
  static const char *const base[] = {"footway",        "pedestrian",   "path",      "steps",
                                     "living_street",  "residential",  "service",   "unclassified",
                                     "track",          "tertiary",     "tertiary_link",
                                     "secondary",      "secondary_link", "primary", "primary_link",
                                     NULL};
  static const char *const if_foot[] = {"cycleway", "motorway", "motorway_link", "trunk",
                                        "trunk_link", NULL};
  static const char *const foot_yes[] = {"yes", "designated", NULL};
  static const char *const closed[] = {"private", "no", NULL};
  int in_base = one_of(highway, base);
  if (!in_base && !one_of(highway, if_foot)) return 0;
  if (foot && strcmp(foot, "no") == 0) return 0;
  if (area && strcmp(area, "yes") == 0) return 0;
  if (one_of(foot, foot_yes)) return 1;
  return in_base && !one_of(access, closed);
}
