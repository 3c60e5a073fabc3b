/**
 * Building blocks shared by the REST API v1 schemas: tags, lifecycle, paging and the error body.
 * Request schemas refuse unknown fields (`closed`).
 */
import { Type, type TSchema } from 'typebox';
import { ERROR_CODES } from '../errors.js';
import { RUN_STATUSES } from '../run.js';

/** Object options of every request and response schema: unknown fields are refused. */
export const closed = { additionalProperties: false } as const;

/** Largest page a search may ask for (as the store enforces). */
export const MAX_PAGE_SIZE = 50_000;

/** Epoch milliseconds. */
export const EpochMs = Type.Integer({ description: 'epoch milliseconds' });

/** A key/value string pair (tags of experiments, runs and dataset inputs). */
export const Tag = Type.Object({ key: Type.String({ minLength: 1 }), value: Type.String() }, closed);

/** `active` or `deleted` (soft-deleted, restorable). */
export const LifecycleStage = Type.Enum(['active', 'deleted']);

/** Which lifecycle stages a search returns. */
export const ViewType = Type.Enum(['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'], { description: 'default ACTIVE_ONLY' });

/** Run status, with MLflow's names. */
export const RunStatus = Type.Enum([...RUN_STATUSES]);

/**
 * One page of results; `nextPageToken` is absent on the last page.
 *
 * @example const RunPage = Page(Run); // { items: Run[], nextPageToken?: string }
 */
export function Page<T extends TSchema>(item: T) {
  return Type.Object(
    {
      items: Type.Array(item),
      nextPageToken: Type.Optional(Type.String({ description: 'pass as pageToken to get the next page' })),
    },
    closed,
  );
}

/** The body of every error response: `{ error: { code, message, details? } }`. */
export const ErrorBody = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.Enum([...ERROR_CODES]),
        message: Type.String(),
        details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      },
      closed,
    ),
  },
  closed,
);

/** Response schemas shared by every route: errors as {@link ErrorBody}. */
export const errorResponses = { '4xx': ErrorBody, '5xx': ErrorBody } as const;

/** Responses of a route that answers 204 with no body on success. */
export const doneResponses = { 204: Type.Null({ description: 'done' }), ...errorResponses } as const;

/** A tag value in `PUT …/tags/:key`. */
export const TagValueBody = Type.Object({ value: Type.String() }, closed);

const PageSize = Type.Integer({
  minimum: 1,
  maximum: MAX_PAGE_SIZE,
  description: `page size, at most ${MAX_PAGE_SIZE}`,
});
const OrderBy = Type.Array(Type.String(), {
  description: "clauses such as 'name ASC' (repeat the parameter for several)",
});

/** Ordering, paging and lifecycle fields shared by the experiment and run searches. */
export const searchPaging = {
  orderBy: Type.Optional(OrderBy),
  maxResults: Type.Optional(PageSize),
  pageToken: Type.Optional(Type.String()),
  viewType: Type.Optional(ViewType),
};
