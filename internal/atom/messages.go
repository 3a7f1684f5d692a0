package atom

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// MarshalOutcome encodes a NotificationOutcome in the service's form:
// Success, Failure and Results always present, Results as i:nil when nil.
func MarshalOutcome(o Outcome) []byte {
	var b bytes.Buffer
	b.WriteString("<NotificationOutcome" + connectRootAttrs + ">")
	textElem(&b, "Success", strconv.Itoa(o.Success))
	textElem(&b, "Failure", strconv.Itoa(o.Failure))
	switch {
	case o.Results == nil:
		b.WriteString(`<Results i:nil="true"/>`)
	case len(o.Results) == 0:
		b.WriteString(`<Results/>`)
	default:
		b.WriteString("<Results>")
		for _, r := range o.Results {
			b.WriteString("<RegistrationResult>")
			textElem(&b, "ApplicationPlatform", r.ApplicationPlatform)
			textElem(&b, "PnsHandle", r.PnsHandle)
			textElem(&b, "RegistrationId", r.RegistrationID)
			textElem(&b, "Outcome", r.Outcome)
			b.WriteString("</RegistrationResult>")
		}
		b.WriteString("</Results>")
	}
	b.WriteString("</NotificationOutcome>")
	return b.Bytes()
}

// ParseOutcome decodes a NotificationOutcome. A missing or i:nil Results
// gives nil Results; an empty one gives an empty, non-nil slice.
func ParseOutcome(data []byte) (Outcome, error) {
	const what = "parse NotificationOutcome"
	root, _, err := parseTree(data, what)
	if err != nil {
		return Outcome{}, err
	}
	if root.name.Local != "NotificationOutcome" {
		return Outcome{}, errRoot(what, root.name, "<NotificationOutcome>")
	}
	var o Outcome
	if o.Success, err = intChild(root, "Success", what); err != nil {
		return Outcome{}, err
	}
	if o.Failure, err = intChild(root, "Failure", what); err != nil {
		return Outcome{}, err
	}
	if res := root.child("Results"); res != nil && !res.isNil() {
		o.Results = []RegistrationResult{}
		for _, k := range res.kids {
			o.Results = append(o.Results, RegistrationResult{
				ApplicationPlatform: k.childValue("ApplicationPlatform"),
				PnsHandle:           k.childValue("PnsHandle"),
				RegistrationID:      k.childValue("RegistrationId"),
				Outcome:             k.childValue("Outcome"),
			})
		}
	}
	return o, nil
}

// intChild parses the integer text of a child element; a missing or empty
// element is 0.
func intChild(n *node, local, what string) (int, error) {
	v := n.childValue(local)
	if v == "" {
		return 0, nil
	}
	i, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("atom: %s: <%s> is %q, not an integer", what, local, v)
	}
	return i, nil
}

// countsOrder ranks the per-platform count elements of NotificationDetails
// by their DataMember order; PnsErrorDetailsUri is 1015.
var countsOrder = map[string]int{
	"ApnsOutcomeCounts": 1010,
	"MpnsOutcomeCounts": 1011,
	"WnsOutcomeCounts":  1012,
	"GcmOutcomeCounts":  1013,
	"AdmOutcomeCounts":  1014,
}

// MarshalNotificationDetails encodes telemetry in the service's element order.
// Counts are written in the order given; PnsErrorDetailsUri goes before the
// first count element that the service orders after it (FcmOutcomeCounts and
// newer), or last.
func MarshalNotificationDetails(d NotificationDetails) []byte {
	var b bytes.Buffer
	b.WriteString("<NotificationDetails" + connectRootAttrs + ">")
	optElem(&b, "NotificationId", d.NotificationID)
	optElem(&b, "Location", d.Location)
	optElem(&b, "State", d.State)
	optElem(&b, "EnqueueTime", d.EnqueueTime)
	optElem(&b, "StartTime", d.StartTime)
	optElem(&b, "EndTime", d.EndTime)
	optElem(&b, "NotificationBody", d.NotificationBody)
	optElem(&b, "Tags", d.Tags)
	optElem(&b, "TargetPlatforms", d.TargetPlatforms)
	uriDone := false
	for _, c := range d.Counts {
		if _, early := countsOrder[c.Element]; !early && !uriDone {
			optElem(&b, "PnsErrorDetailsUri", d.PnsErrorDetailsURI)
			uriDone = true
		}
		if len(c.Counts) == 0 {
			b.WriteString("<" + c.Element + "/>")
			continue
		}
		b.WriteString("<" + c.Element + ">")
		for _, oc := range c.Counts {
			b.WriteString("<Outcome>")
			textElem(&b, "Name", oc.Name)
			textElem(&b, "Count", strconv.Itoa(oc.Count))
			b.WriteString("</Outcome>")
		}
		b.WriteString("</" + c.Element + ">")
	}
	if !uriDone {
		optElem(&b, "PnsErrorDetailsUri", d.PnsErrorDetailsURI)
	}
	b.WriteString("</NotificationDetails>")
	return b.Bytes()
}

// ParseNotificationDetails decodes telemetry. Every child element whose name
// ends in "OutcomeCounts" becomes one PlatformCounts, in document order.
func ParseNotificationDetails(data []byte) (NotificationDetails, error) {
	const what = "parse NotificationDetails"
	root, _, err := parseTree(data, what)
	if err != nil {
		return NotificationDetails{}, err
	}
	if root.name.Local != "NotificationDetails" {
		return NotificationDetails{}, errRoot(what, root.name, "<NotificationDetails>")
	}
	var d NotificationDetails
	for _, k := range root.kids {
		v := nodeValue(k)
		switch name := k.name.Local; name {
		case "NotificationId":
			d.NotificationID = v
		case "Location":
			d.Location = v
		case "State":
			d.State = v
		case "EnqueueTime":
			d.EnqueueTime = v
		case "StartTime":
			d.StartTime = v
		case "EndTime":
			d.EndTime = v
		case "NotificationBody":
			d.NotificationBody = v
		case "Tags":
			d.Tags = v
		case "TargetPlatforms":
			d.TargetPlatforms = v
		case "PnsErrorDetailsUri":
			d.PnsErrorDetailsURI = v
		default:
			if !strings.HasSuffix(name, "OutcomeCounts") {
				continue
			}
			pc := PlatformCounts{Element: name}
			if !k.isNil() {
				for _, o := range k.kids {
					n, err := intChild(o, "Count", what+" "+name)
					if err != nil {
						return NotificationDetails{}, err
					}
					pc.Counts = append(pc.Counts, OutcomeCount{Name: o.childValue("Name"), Count: n})
				}
			}
			d.Counts = append(d.Counts, pc)
		}
	}
	return d, nil
}

// MarshalJob encodes the NotificationHubJob element in canonical order.
// Status is left out when it is empty or "Started" (the DataContract
// default); the dictionaries are written with the d3p1 prefix of .NET,
// keys sorted.
func MarshalJob(j Job) []byte {
	var b bytes.Buffer
	b.WriteString("<NotificationHubJob" + connectRootAttrs + ">")
	optElem(&b, "JobId", j.JobID)
	optElem(&b, "Progress", j.Progress)
	optElem(&b, "Type", j.Type)
	if j.Status != "Started" {
		optElem(&b, "Status", j.Status)
	}
	optElem(&b, "OutputContainerUri", j.OutputContainerURI)
	optElem(&b, "ImportFileUri", j.ImportFileURI)
	writeDict(&b, "InputProperties", j.InputProperties)
	optElem(&b, "Failure", j.Failure)
	writeDict(&b, "OutputProperties", j.OutputProperties)
	optElem(&b, "CreatedAt", j.CreatedAt)
	optElem(&b, "UpdatedAt", j.UpdatedAt)
	b.WriteString("</NotificationHubJob>")
	return b.Bytes()
}

func writeDict(b *bytes.Buffer, name string, m map[string]string) {
	if len(m) == 0 {
		return
	}
	b.WriteString("<" + name + ` xmlns:d3p1="` + NSArrays + `">`)
	for _, k := range sortedKeys(m) {
		b.WriteString("<d3p1:KeyValueOfstringstring>")
		textElem(b, "d3p1:Key", k)
		textElem(b, "d3p1:Value", m[k])
		b.WriteString("</d3p1:KeyValueOfstringstring>")
	}
	b.WriteString("</" + name + ">")
}

// ParseJob decodes a NotificationHubJob element. A missing Status is
// "Started".
func ParseJob(data []byte) (Job, error) {
	const what = "parse NotificationHubJob"
	root, _, err := parseTree(data, what)
	if err != nil {
		return Job{}, err
	}
	if root.name.Local != "NotificationHubJob" {
		return Job{}, errRoot(what, root.name, "<NotificationHubJob>")
	}
	var j Job
	for _, k := range root.kids {
		v := nodeValue(k)
		switch k.name.Local {
		case "JobId":
			j.JobID = v
		case "Progress":
			j.Progress = v
		case "Type":
			j.Type = v
		case "Status":
			j.Status = v
		case "OutputContainerUri":
			j.OutputContainerURI = v
		case "ImportFileUri":
			j.ImportFileURI = v
		case "InputProperties":
			j.InputProperties = dictFromNode(k)
		case "Failure":
			j.Failure = v
		case "OutputProperties":
			j.OutputProperties = dictFromNode(k)
		case "CreatedAt":
			j.CreatedAt = v
		case "UpdatedAt":
			j.UpdatedAt = v
		}
	}
	if j.Status == "" {
		j.Status = "Started"
	}
	return j, nil
}

func dictFromNode(n *node) map[string]string {
	if n.isNil() {
		return nil
	}
	var m map[string]string
	for _, kv := range n.kids {
		if m == nil {
			m = map[string]string{}
		}
		m[kv.childValue("Key")] = kv.childValue("Value")
	}
	return m
}

// MarshalPnsFeedback encodes one feedback document (no XML declaration),
// leaving out empty elements.
func MarshalPnsFeedback(f PnsFeedback) []byte {
	var b bytes.Buffer
	b.WriteString(`<PnsFeedback xmlns:i="` + NSInstance + `" xmlns="` + NSConnect + `">`)
	optElem(&b, "FeedbackTime", f.FeedbackTime)
	optElem(&b, "NotificationSystemError", f.NotificationSystemError)
	optElem(&b, "Platform", f.Platform)
	optElem(&b, "PnsHandle", f.PnsHandle)
	optElem(&b, "RegistrationId", f.RegistrationID)
	optElem(&b, "InstallationId", f.InstallationID)
	optElem(&b, "NotificationId", f.NotificationID)
	optElem(&b, "NewPnsHandle", f.NewPnsHandle)
	b.WriteString("</PnsFeedback>")
	return b.Bytes()
}

// ParsePnsFeedback decodes one feedback document. The utf-16 declaration
// the service writes is accepted whether the bytes are UTF-16 (with a byte
// order mark) or UTF-8.
func ParsePnsFeedback(data []byte) (PnsFeedback, error) {
	const what = "parse PnsFeedback"
	root, _, err := parseTree(data, what)
	if err != nil {
		return PnsFeedback{}, err
	}
	if root.name.Local != "PnsFeedback" {
		return PnsFeedback{}, errRoot(what, root.name, "<PnsFeedback>")
	}
	return PnsFeedback{
		FeedbackTime:            root.childValue("FeedbackTime"),
		NotificationSystemError: root.childValue("NotificationSystemError"),
		Platform:                root.childValue("Platform"),
		PnsHandle:               root.childValue("PnsHandle"),
		RegistrationID:          root.childValue("RegistrationId"),
		InstallationID:          root.childValue("InstallationId"),
		NotificationID:          root.childValue("NotificationId"),
		NewPnsHandle:            root.childValue("NewPnsHandle"),
	}, nil
}

// MarshalError encodes an error body: <Error><Code/><Detail/></Error> with
// no namespace and no XML declaration.
func MarshalError(e ErrorBody) []byte {
	var b bytes.Buffer
	b.WriteString("<Error>")
	textElem(&b, "Code", strconv.Itoa(e.Code))
	textElem(&b, "Detail", e.Detail)
	b.WriteString("</Error>")
	return b.Bytes()
}

// ParseError decodes an error body.
func ParseError(data []byte) (ErrorBody, error) {
	const what = "parse error body"
	root, _, err := parseTree(data, what)
	if err != nil {
		return ErrorBody{}, err
	}
	if root.name.Local != "Error" {
		return ErrorBody{}, errRoot(what, root.name, "<Error>")
	}
	code, err := intChild(root, "Code", what)
	if err != nil {
		return ErrorBody{}, err
	}
	return ErrorBody{Code: code, Detail: root.childValue("Detail")}, nil
}
