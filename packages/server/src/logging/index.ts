/** The server's logging: a destination that never blocks serving, a readable format, secrets kept out. */
export { LogSink, type LogSinkOptions } from './log-sink.js';
export { prettyLogLine, LOG_FORMATS, type LogFormat } from './log-format.js';
export { redactUrl, REDACTED } from './redact.js';
