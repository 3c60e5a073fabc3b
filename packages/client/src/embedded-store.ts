import type * as Store from '@trestle/store';

/**
 * The embedded store, loaded only when used. `@trestle/store` is an optional peer of the SDK (it
 * brings SQLite and the database drivers): an SDK installed without it still logs to a server,
 * and says what to install when asked for the embedded store.
 */
export async function importStore(): Promise<typeof Store> {
  try {
    return await import('@trestle/store');
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    if (code === 'ERR_MODULE_NOT_FOUND' && message?.includes("'@trestle/store'") === true) {
      throw new Error(
        'the embedded store needs the @trestle/store package: install it (npm install @trestle/store), ' +
          'or set TRESTLE_TRACKING_URI to log to a Trestle server',
      );
    }
    throw error;
  }
}
