/** Schemas of the probes `/health` and `/ready`. */
import { Type } from 'typebox';
import { closed } from './common.js';

/** Answer of `/health`, and of `/ready` when the stores work. */
export const HealthStatus = Type.Object({ status: Type.Literal('ok') }, closed);

/** Answer of `/ready` (503) when a store cannot serve: what is wrong and what to do. */
export const NotReady = Type.Object({ status: Type.Literal('unavailable'), message: Type.String() }, closed);
