package notificationhubs

// PacerEvent is what TracePacer's f is told: a send started, or a
// throttled answer, with the time the pacer was given.
type PacerEvent = pacerEvent

// TracePacer has f told of every send s starts and every throttled
// answer it gets, in the order its pacer saw them, on the pacer's clock.
// Call it before s sends.
func TracePacer(s *BulkSender, f func(PacerEvent)) { s.pacer.trace = f }
