"""Export files in the shapes of the tools teams leave, as docs/imports.md describes them."""

from __future__ import annotations

import json


def _import_ids(*ids: str) -> str:
    """Qualtrics' third header row: each column's ImportId as JSON, quoted as CSV quotes it."""
    cells = ('"' + json.dumps({"ImportId": i}, separators=(",", ":")).replace('"', '""') + '"' for i in ids)
    return ",".join(cells) + "\n"


DELIGHTED = (
    "Response ID,Score,Comment,Email,Name,Created At,Updated At,Permalink,Notes,Tags,Plan,Region\n"
    'd-1,9,Fixed fast, Ana@Example.com ,Ana Lima,2026-10-01 10:00:00 UTC,,/r/1,,"Slow first response, vip",pro,EU\n'
    "d-2,3,Took a week,bo@example.com,Bo,2026-10-01T11:30Z,,/r/2,,slow-resolution,free,US\n"
    "d-3,7,,cy@example.com,,1790848800,,/r/3,,,pro,EU\n"
    "d-4,10,,,No Email,2026-10-01 12:00:00 UTC,,/r/4,,,pro,EU\n"
)
SURVEYMONKEY = (
    "Respondent ID,Collector ID,Start Date,End Date,IP Address,Email Address,First Name,Last Name,Custom Data 1,"
    "How likely is it that you would recommend us to a friend or colleague?,What is the main reason for your score?\n"
    ",,,,,,,,,Response,Open-Ended Response\n"
    "11401,4032,10/01/2026 09:55:00 AM,10/01/2026 10:00:00 AM,1.2.3.4,ana@example.com,Ana,Lima,gold,9,Great\n"
    "11402,4032,10/02/2026 09:55:00 AM,10/02/2026 10:00:00 PM,1.2.3.5,bo@example.com,Bo,Bell,silver,2,Slow\n"
)
QUALTRICS = (
    "StartDate,EndDate,Status,IPAddress,Progress,Duration (in seconds),Finished,RecordedDate,ResponseId,"
    "RecipientLastName,RecipientFirstName,RecipientEmail,ExternalReference,DistributionChannel,UserLanguage,"
    "Q1,Q1_NPS_GROUP,Q2,Department\n"
    "Start Date,End Date,Response Type,IP Address,Progress,Duration (in seconds),Finished,Recorded Date,Response ID,"
    "Recipient Last Name,Recipient First Name,Recipient Email,External Data Reference,Distribution Channel,"
    "User Language,How likely are you to recommend IT support to a colleague?,"
    "How likely are you to recommend IT support to a colleague? - Group,Why?,Department\n"
    + _import_ids(
        "startDate",
        "endDate",
        "status",
        "ipAddress",
        "progress",
        "duration",
        "finished",
        "recordedDate",
        "_recordId",
        "recipientLastName",
        "recipientFirstName",
        "recipientEmail",
        "externalDataReference",
        "distributionChannel",
        "userLanguage",
        "QID1",
        "QID1_NPS_GROUP",
        "QID2_TEXT",
        "Department",
    )
    + "2026-10-01 09:58:00,2026-10-01 10:00:00,IP Address,1.2.3.4,100,120,True,2026-10-01 10:00:01,R_1a,"
    "Lima,Ana,ana@example.com,E-100,email,EN,9,Promoter,Helpful,Finance\n"
    "2026-10-02 09:58:00,2026-10-02 10:00:00,IP Address,1.2.3.5,100,120,True,2026-10-02 10:00:01,R_2b,"
    "Bell,Bo,bo@example.com,E-200,email,EN,4,Detractor,Slow,Sales\n"
)
TYPEFORM = (
    "#,How likely are you to recommend our help desk to a friend?,What could we do better?,email,user_id,plan,"
    "Start Date (UTC),Submit Date (UTC),Network ID,Tags\n"
    "tf1,10,Nothing,ana@example.com,U-1,pro,2026-10-01 09:59:00,2026-10-01 10:00:00,abc,\n"
    "tf2,6,Faster,bo@example.com,U-2,free,2026-10-02 09:59:00,2026-10-02 10:00:00,abd,vpn-access\n"
)
RETENTLY = (
    "Response ID;Email;First name;Last name;Company;Score;Feedback;Tags;Response date;Campaign;Channel;Country\n"
    "rt-1;ana@example.com;Ana;Lima;Acme;9;Good;password reset;01/10/2026 10:00;Q4 NPS;email;PT\n"
    "rt-2;bo@example.com;Bo;Bell;Acme;5;Meh;;02/10/2026 10:00;Q4 NPS;email;US\n"
)
HELPDESK = (
    "Ticket ID\tSubject\tRequester\tRequester email\tAssignee\tScore\tComment\tRated at\tTicket tags\n"
    "4501\tVPN down\tAna Lima\tana@example.com\tMo\t8\tok\t2026-10-01 10:00:00\tvpn-access,priority\n"
    "4502\tPrinter\tBo Bell\tbo@example.com\tMo\t1\tbad\t2026-10-02 10:00:00\thardware\n"
)
CSAT = "Ticket ID,Requester email,Satisfaction (1-5),Comment\n1,ana@example.com,4,ok\n"
