package authz_test

// fuzzSeeds are FuzzAuthzInvariant's seed corpus (run by every go test).
// Bytes are read in order (see newExchange, exchange.message,
// gen.spell and scriptedUpstream): flags (bits 0-1 version "", 2025-03-26,
// 2025-06-18, 2026-07-28; 2-4 all set: GET; 5 batch; 6 no principal; 7+4
// header fault), scopes (t:admin, t:delete, r:secret, p:secret), message
// count-1, then per message id form, type (0 tools/call, 1 prompts/get,
// 2 resources/read, 3 subscribe, 4 unsubscribe, 5/6 completion, 7 listen,
// 8-11 lists, 12 ping, 13 unknown, 14 notification, 15 response), escape
// mask and the name (index, and for resources a respelling mask, 0x80 on);
// then the upstream: mode (bit 0 SSE, 1 unsolicited list, 2 notification,
// 3 malformed JSON, 4 case-variant result, 5 batch, 6 a cut final event), per request
// answered/id/entries, and event and chunk choices.
var fuzzSeeds = [][]byte{
	{0, 0, 0, 0, 0, 0, 0},             // allowed tools/call echo, JSON answer
	{0, 0, 0, 0, 0, 0, 1},             // tools/call admin.reset without t:admin: denied
	{0, 1, 0, 0, 0, 0x40, 1, 0, 0, 0}, // admin.reset with t:admin, name with JSON escapes
	{0, 0, 0, 0, 8, 0, 0, 0, 0, 4, 0, 0, 1, 0, 2, 0x40, 3, 0, 0, 7, 13, 200}, // tools/list, JSON, forbidden entries filtered
	{0, 0, 0, 0, 8, 0, 1, 0, 0, 4, 0, 0, 1, 0, 2, 0, 3, 0, 0, 1, 7, 9, 30},   // tools/list as SSE, CRLF, priming event, two data lines
	{0, 0, 0, 0, 2, 0, 1, 0x81},          // resources/read File:///secret/b: denied
	{0, 4, 0, 0, 2, 0, 1, 0xFF, 0, 0, 0}, // every respelling at once, with r:secret
	{0, 0, 0, 0, 9, 0, 1, 0, 0, 4, 1, 0x83, 0, 2, 0xA8, 0, 3, 0xC4, 0, 0, 0, 0, 0, 2, 5},    // resources/list, spelled secrets, SSE with CR
	{1, 0, 1, 0, 8, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 2, 0, 0, 1, 0, 0, 0, 0, 2, 3, 1, 0, 5, 9}, // 2025-03-26 batch: list + call, SSE, CR/CRLF
	{3, 0, 0, 0, 8, 0, 0, 0, 0, 2, 0, 0, 1, 0, 0},                                           // 2026-07-28 tools/list: cacheScope private
	{3, 0, 0, 0, 3, 0, 0, 1, 0x80},                                                          // 2026-07-28 subscribe with _meta: not governed
	{3, 0, 0, 0, 3, 0, 1, 1, 0},                                                             // 2026-07-28 header, no _meta: governed, denied
	{0x1C, 0, 1, 0, 0, 3, 0, 0, 1, 0, 2, 0, 0, 0, 0},                                        // GET replay, filtered by shape
	{0, 0, 0, 0, 12, 0, 2, 0, 0, 1, 0, 1, 1, 0, 0},                                          // ping; the upstream adds an unsolicited list: 502
	{0, 0, 0, 0, 8, 0, 8, 0, 0, 1, 0, 0, 0},                                                 // tools/list; the upstream adds malformed JSON: 502
	{0, 0, 0, 0, 8, 0, 17, 0, 0, 1, 0, 0, 0},                                                // tools/list; a case-variant Result on SSE: error event
	{0, 0, 0, 0, 8, 0, 0, 0, 7, 1, 2, 1, 0, 0, 0},                                           // tools/list answered as id 1.0: respelled 1, filtered
	{0, 0, 0, 0, 8, 0, 0, 0, 7, 3, 2, 1, 0, 0, 0},                                           // tools/list answered as id "1": 502
	{0, 0, 0, 0, 7, 0, 2, 1, 0x85, 0, 0},                                                    // subscriptions/listen to a secret: denied
	{0, 4, 0, 0, 6, 0x40, 0, 0, 0, 0},                                                       // completion of a secret template with r:secret
	{0x40, 0xF, 0, 0, 0, 0, 1},                                                              // no principal: admin.reset denied
	{0x93, 0, 0, 0, 0, 0, 2},                                                                // 2026-07-28 with a wrong Mcp-Name: refused
	{2, 0, 1, 0, 12, 0, 1, 8, 0},                                                            // batch in 2025-06-18: refused
	{0, 0, 0, 0, 8, 0, 0, 0, 0, 2, 0, 0x20, 1, 0, 0, 0},                                     // a case-variant duplicate name in an entry
	{0, 0, 0, 0, 15, 0},                                                                     // a client response
	{0, 0, 2, 0, 14, 0, 1, 0, 13, 0, 2, 4, 0, 0, 0},                                         // batch: notification, unknown method, unsubscribe
	{0, 0, 0, 0, 8, 0, 1, 0, 0, 1, 0, 0, 0, 2, 4},                                           // an allowed list split over two data lines at a lone CR
	{0, 0, 0, 0, 8, 0, 65, 0, 0, 0, 0, 0, 0, 1, 1, 0},                                       // SSE ending inside an event listing admin.reset
	{0x40, 0, 0, 0, 11, 0, 1, 0, 0, 3, 0, 0, 1, 0, 2, 0, 0, 1, 0},                           // no principal: prompts/list on SSE, filtered
}
