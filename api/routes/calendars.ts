import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { calendars } from '../../db/calendars.js';
import { calendar, calendarCreate, calendarListQuery, calendarUpdate, type CalendarUpdate } from '../../schemas/calendars.js';
import { crudRoutes } from '../crud-routes.js';
import type { AppDeps } from '../deps.js';
import { replanTickets } from '../sla-sources.js';
import { conflict } from '../plugins/errors.js';

/** What the API docs say about these routes, besides the schemas (decisions the spec leaves open). */
const DESCRIPTIONS: Record<string, string> = {
  'GET /calendars': 'Filter: `name` (part of it, any case); oldest first. The default 24x7 calendar (`isDefault`) is always in the list.',
  'POST /calendars':
    'The name is unique. `timeZone` is an IANA name (or UTC). `weeklyHours` names all seven weekdays; each interval is `from`–`to` on the same day ' +
    '(`to` after `from`, `24:00` = end of day); there are no overnight intervals: a night shift is 22:00–24:00 on one day and 00:00–06:00 on the next. ' +
    'Intervals of a day must not overlap (touching is fine); an empty day is closed; at least one day must have hours. ' +
    'Holidays close their whole date in the calendar time zone, one per date. Intervals and holidays are stored in time and date order.',
  'PATCH /calendars/:id':
    'A field given replaces it whole (all of `weeklyHours`, all of `holidays`). The default calendar stays 24x7: only its name can change (409 otherwise); ' +
    'for other hours, create a calendar and name it in the sectors.',
  'DELETE /calendars/:id': 'The default calendar cannot be deleted (409); nor can a calendar a sector names: give those sectors another calendar first.',
};

const DOCUMENT_FIELDS = ['timeZone', 'weeklyHours', 'holidays'] as const;

export function calendarsRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    crudRoutes(app, {
      descriptions: DESCRIPTIONS,
      path: '/calendars',
      noun: 'calendar',
      tag: 'calendars',
      schemas: { entity: calendar, create: calendarCreate, update: calendarUpdate, listQuery: calendarListQuery },
      store: {
        ...calendars,
        // is_default never changes, so reading it first is no race.
        async remove(sql, id) {
          const found = await calendars.get(sql, id);
          if (found?.isDefault) throw conflict(`The calendar «${found.name}» is the default 24x7 calendar of sectors that name none; it cannot be deleted.`);
          return calendars.remove(sql, id);
        },
      },
      sql: deps.sql,
      // Live tickets computed from it re-plan their SLA timers (a create concerns none), in the
      // background: a change touching thousands of tickets does not hold the request.
      changed: async ({ id, deleted }) => void (deleted || replanTickets(app.log, deps, { calendarId: id }, `calendar ${id} changed`)),
      async check(input, id) {
        if (id === undefined) return;
        const changing = DOCUMENT_FIELDS.filter((f) => (input as CalendarUpdate)[f] !== undefined);
        if (changing.length === 0) return;
        const found = await calendars.get(deps.sql, id);
        if (found?.isDefault) {
          throw conflict(`The calendar «${found.name}» is the default 24x7 calendar: only its name can change, not ${changing.join(', ')}. Create another calendar and name it in the sectors.`);
        }
      },
    });
  };
}
