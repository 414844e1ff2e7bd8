/* The proleptic Gregorian calendar in days since 1970-01-01: pure integer arithmetic. */
#ifndef SCHEMADRIFT_CALENDAR_H
#define SCHEMADRIFT_CALENDAR_H

#include <stdbool.h>
#include <stdint.h>

/* a / b rounded towards minus infinity. */
int64_t calendar_floor_div(int64_t a, int64_t b);
bool calendar_is_leap(int64_t y);
/* m is 1..12. */
int calendar_days_in_month(int64_t y, int m);
/* Days since 1970-01-01 of y-m-d (Howard Hinnant's days_from_civil). */
int64_t calendar_days_from_civil(int64_t y, int m, int d);
void calendar_civil_from_days(int64_t z, int64_t *ret_y, int *ret_m, int *ret_d);
/* 0 = Sunday. */
int calendar_weekday(int64_t days);

#endif
