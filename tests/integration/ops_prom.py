"""Parse regionfs's .regionfs/metrics with prometheus_client's text parser.

    /usr/bin/python3 ops_prom.py FILE [QUERY ...]

FILE is parsed with prometheus_client.parser.text_string_to_metric_families
(Debian: python3-prometheus-client). The parser is lax -- a line it does not
understand becomes an "untyped" family of its own -- so this also requires
that every family has a # HELP text and a # TYPE of counter or gauge, that
every sample line of FILE was parsed into exactly one sample, and that no
sample (name plus labels) appears twice.

Each QUERY is SAMPLE_NAME or SAMPLE_NAME{label=value,...} (values unquoted,
no commas in them); it must match exactly one sample, whose value is printed
on a line of its own, as an integer when it is one. Exit status 1 with a
reason on stderr on any problem.
"""

import math
import sys

from prometheus_client.parser import text_string_to_metric_families


def die(msg):
    print("ops_prom: " + msg, file=sys.stderr)
    sys.exit(1)


def parse_query(q):
    if "{" not in q:
        return q, {}
    if not q.endswith("}"):
        die("bad query " + q)
    name, rest = q[:-1].split("{", 1)
    want = {}
    for part in filter(None, rest.split(",")):
        if "=" not in part:
            die("bad query " + q)
        k, v = part.split("=", 1)
        want[k] = v
    return name, want


def main():
    if len(sys.argv) < 2:
        die("usage: ops_prom.py FILE [QUERY ...]")
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as e:  # the parser raises ValueError and friends
        die("not Prometheus text: %r" % (e,))
    if not families:
        die("no metric families")
    samples = []
    for fam in families:
        if fam.type not in ("counter", "gauge"):
            die("family %s has type %s (missing or bad # TYPE?)" % (fam.name, fam.type))
        if not fam.documentation:
            die("family %s has no # HELP text" % fam.name)
        for s in fam.samples:
            if math.isnan(s.value) or s.value < 0:
                die("sample %s%s has value %r" % (s.name, s.labels, s.value))
            samples.append(s)
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    if len(lines) != len(samples):
        die("%d sample lines but %d parsed samples" % (len(lines), len(samples)))
    seen = set()
    for s in samples:
        key = (s.name, tuple(sorted(s.labels.items())))
        if key in seen:
            die("duplicate sample %s%s" % (s.name, s.labels))
        seen.add(key)
    for q in sys.argv[2:]:
        name, want = parse_query(q)
        hits = [
            s
            for s in samples
            if s.name == name and all(s.labels.get(k) == v for k, v in want.items())
        ]
        if len(hits) != 1:
            die("query %s matched %d samples: %s" % (q, len(hits), hits[:4]))
        v = hits[0].value
        print(int(v) if float(v).is_integer() else v)


main()
