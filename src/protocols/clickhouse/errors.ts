/**
 * ClickHouse exceptions by what a writer should do about them. The server answers every
 * exception with `Code: N` in the text (and, since 19.x, the X-ClickHouse-Exception-Code
 * header); the HTTP status alone says little (500 for nearly everything before 22.x).
 */

/** The exception code in a ClickHouse error message, or null (a network error, a proxy's page). */
export function clickhouseErrorCode(message: string): number | null {
  const m = /\bCode: (\d+)/.exec(message);
  return m ? Number(m[1]) : null;
}

/**
 * Codes that mean "these rows cannot be stored as they are": parse and type errors of the data
 * itself. Retrying the same rows fails the same way; the writer isolates the rows at fault.
 * Everything else (unknown table or column, authentication, memory, too many parts, timeouts,
 * a read-only replica) is about the server or its schema and passes once an operator fixes it.
 */
const DATA_ERRORS = new Set([
  6, // CANNOT_PARSE_TEXT
  25, // CANNOT_PARSE_ESCAPE_SEQUENCE
  26, // CANNOT_PARSE_QUOTED_STRING
  27, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  38, // CANNOT_PARSE_DATE
  41, // CANNOT_PARSE_DATETIME
  53, // TYPE_MISMATCH
  69, // ARGUMENT_OUT_OF_BOUND
  70, // CANNOT_CONVERT_TYPE
  72, // CANNOT_PARSE_NUMBER
  117, // INCORRECT_DATA
  131, // TOO_LARGE_STRING_SIZE
  190, // SIZES_OF_ARRAYS_DOESNT_MATCH
  321, // VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
  349, // CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
  467, // CANNOT_PARSE_BOOL
  691, // UNKNOWN_ELEMENT_OF_ENUM
]);

/**
 * Whether an insert failed on the rows themselves. Besides the codes, the message: servers
 * before 20.x answer some data errors with generic codes (an unknown Enum element was
 * LOGICAL_ERROR, 49) but always say which value they could not read.
 */
export function isDataError(message: string): boolean {
  const code = clickhouseErrorCode(message);
  if (code === null) return false;
  if (/Unknown field found while parsing/.test(message)) return false; // the table changed: a schema matter
  return DATA_ERRORS.has(code) || /while read(ing)? the value of key|Cannot parse/.test(message);
}
