package link

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Preset names a set of campaign parameters that one analytics tool reads.
type Preset string

// The presets. Each tool's parameter names are those of its documentation,
// cited in campaign_test.go, which checks them.
const (
	// PresetNone adds nothing: the redirect goes to the target as minted.
	PresetNone Preset = "none"
	// PresetUTM is Google Analytics' utm_source, utm_medium, utm_campaign,
	// which most other tools read too.
	PresetUTM Preset = "utm"
	// PresetMatomo is Matomo's recommended mtm_source, mtm_medium, mtm_campaign.
	PresetMatomo Preset = "matomo"
	// PresetPiwikPro is Piwik PRO's pk_source, pk_medium, pk_campaign.
	PresetPiwikPro Preset = "piwikpro"
	// PresetPiano is Piano Analytics' at_medium and at_campaign, both
	// mandatory there, plus at_channel, which its SDK turns into a
	// src_channel property.
	PresetPiano Preset = "piano"
	// PresetXtor is AT Internet Analytics Suite 2's xtor, for sites still on
	// SmartTag; the Piano Analytics SDK ignores it.
	PresetXtor Preset = "xtor"
	// PresetCustom adds the pairs of Campaign.Template.
	PresetCustom Preset = "custom"
)

// Presets lists every preset. Callers must not modify it.
var Presets = []Preset{PresetNone, PresetUTM, PresetMatomo, PresetPiwikPro, PresetPiano, PresetXtor, PresetCustom}

const (
	// DefaultCampaignName is the campaign of links when no name is set.
	DefaultCampaignName = "darkshare"
	// DarkSocialMedium is the medium every preset reports: what these visits
	// have in common, whatever the channel.
	DarkSocialMedium = "dark-social"

	maxCampaignName     = 100
	maxTemplateLength   = 1024
	maxTemplatePairs    = 20
	placeholderChannel  = "{channel}"
	placeholderCampaign = "{campaign}"
	placeholderCode     = "{code}"
)

// Campaign says which campaign parameters a redirect adds to its target, so
// that the site's own analytics books the visit as dark social instead of
// direct. The zero value adds none.
type Campaign struct {
	Preset Preset `json:"preset"`
	// Name is the campaign the visits are booked under; empty means
	// DefaultCampaignName. For xtor it is required: the declared source and
	// campaign IDs, such as CS1-42.
	Name string `json:"name,omitempty"`
	// Template is the query of the custom preset, such as
	// "src={channel}&med=dark-social&camp={campaign}&id={code}".
	Template string `json:"template,omitempty"`
}

// xtorIDs is the A-B head of an xtor: a source prefix (CS<n> for a custom
// marketing source) and the numeric campaign ID the AT Internet interface
// gives when the campaign is declared.
var xtorIDs = regexp.MustCompile(`^[A-Z]+[0-9]*-[0-9]+$`)

// ParseCampaign checks c and returns it in its canonical form: preset in
// lower case, "" read as none, surrounding space trimmed. It returns an
// error wrapping ErrInvalidCampaign, with a message fit for the caller, for
// an unknown preset, a name that cannot be sent, or a bad custom template.
func ParseCampaign(c Campaign) (Campaign, error) {
	c = c.canonical()
	if _, err := c.plan(); err != nil {
		return Campaign{}, err
	}
	return c, nil
}

func (c Campaign) canonical() Campaign {
	c.Preset = Preset(strings.ToLower(strings.TrimSpace(string(c.Preset))))
	c.Name = strings.TrimSpace(c.Name)
	c.Template = strings.TrimSpace(c.Template)
	if c.Preset == "" {
		c.Preset = PresetNone
	}
	return c
}

// Destination returns target with c's parameters for the link of channel ch
// and code, and the landing marker when marker is set. Target's own query
// pairs keep their order and encoding, and its fragment is kept; a pair with
// one of our names is replaced, not repeated. With no parameters to add,
// target is returned as is. It returns an error wrapping ErrInvalidCampaign
// for an invalid c, or ErrInvalidURL if target is not an absolute http(s) URL.
func (c Campaign) Destination(target string, ch Channel, code string, marker bool) (string, error) {
	p, err := c.canonical().plan()
	if err != nil {
		return "", err
	}
	return p.destination(target, ch, code, marker)
}

// plan is a checked campaign, parsed once: the pairs it adds, in order,
// with their values still to fill in per link.
type plan struct {
	name  string // the campaign name, defaulted
	pairs []pair
}

type pair struct {
	name  string
	value []part
}

// part is a literal text, or a placeholder to replace.
type part struct {
	text        string
	placeholder bool
}

func lit(s string) []part  { return []part{{text: s}} }
func hole(s string) []part { return []part{{text: s, placeholder: true}} }

func invalidCampaign(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidCampaign}, args...)...)
}

// plan checks c and parses it. c must be canonical.
func (c Campaign) plan() (plan, error) {
	pairs, err := c.pairs()
	if err != nil {
		return plan{}, err
	}
	if err := c.checkName(); err != nil {
		return plan{}, err
	}
	p := plan{name: c.Name, pairs: pairs}
	if p.name == "" {
		p.name = DefaultCampaignName
	}
	return p, nil
}

// pairs returns the pairs of c's preset.
func (c Campaign) pairs() ([]pair, error) {
	if c.Preset != PresetCustom && c.Template != "" {
		return nil, invalidCampaign("a template is only for the custom preset, not %q", c.Preset)
	}
	switch c.Preset {
	case PresetNone:
		return nil, nil
	case PresetUTM:
		return sourceMediumCampaign("utm_"), nil
	case PresetMatomo:
		return sourceMediumCampaign("mtm_"), nil
	case PresetPiwikPro:
		return sourceMediumCampaign("pk_"), nil
	case PresetPiano:
		// at_medium is what Piano reports as the source type: dark-social
		// keeps these visits apart from newsletters (at_medium=email).
		return []pair{{"at_medium", lit(DarkSocialMedium)}, {"at_campaign", hole(placeholderCampaign)}, {"at_channel", hole(placeholderChannel)}}, nil
	case PresetXtor:
		// A-B-C: the declared source and campaign IDs, then the channel as
		// a [label] in C, the form AT Internet gives labels.
		return []pair{{"xtor", []part{{text: placeholderCampaign, placeholder: true}, {text: "-["}, {text: placeholderChannel, placeholder: true}, {text: "]"}}}}, nil
	case PresetCustom:
		return parseTemplate(c.Template)
	}
	return nil, invalidCampaign("unknown preset %q (known: %s)", c.Preset, PresetNames())
}

func sourceMediumCampaign(prefix string) []pair {
	return []pair{
		{prefix + "source", hole(placeholderChannel)},
		{prefix + "medium", lit(DarkSocialMedium)},
		{prefix + "campaign", hole(placeholderCampaign)},
	}
}

func (c Campaign) checkName() error {
	switch {
	case c.Preset == PresetNone && c.Name != "":
		return invalidCampaign("the none preset takes no name")
	case len(c.Name) > maxCampaignName:
		return invalidCampaign("name is longer than %d bytes", maxCampaignName)
	case !utf8.ValidString(c.Name) || strings.ContainsFunc(c.Name, unicode.IsControl):
		return invalidCampaign("name must be text without control characters")
	case c.Preset == PresetXtor && !xtorIDs.MatchString(c.Name):
		return invalidCampaign("the xtor preset needs a name of the form CS1-42: the source and campaign IDs declared in AT Internet, not %q", c.Name)
	}
	return nil
}

// parseTemplate parses a custom template: a query string whose values may
// hold placeholders. Names are literal, non-empty and distinct, so that
// replacing a target's pair of the same name is well defined.
func parseTemplate(t string) ([]pair, error) {
	if t == "" {
		return nil, invalidCampaign("the custom preset needs a template, such as %q", "src={channel}&med=dark-social&camp={campaign}")
	}
	if len(t) > maxTemplateLength {
		return nil, invalidCampaign("template is longer than %d bytes", maxTemplateLength)
	}
	if _, err := url.ParseQuery(t); err != nil {
		return nil, invalidCampaign("template is not a query string: %v", err)
	}
	var pairs []pair
	seen := map[string]bool{}
	for raw := range strings.SplitSeq(t, "&") {
		if raw == "" {
			continue
		}
		p, err := parsePair(raw)
		if err != nil {
			return nil, err
		}
		if seen[p.name] {
			return nil, invalidCampaign("template names %q twice", p.name)
		}
		seen[p.name] = true
		pairs = append(pairs, p)
	}
	switch {
	case len(pairs) == 0:
		return nil, invalidCampaign("template has no name=value pair")
	case len(pairs) > maxTemplatePairs:
		return nil, invalidCampaign("template has more than %d pairs", maxTemplatePairs)
	}
	return pairs, nil
}

func parsePair(raw string) (pair, error) {
	rawName, rawValue, _ := strings.Cut(raw, "=")
	// ParseQuery has accepted the whole template, so these unescape.
	name, _ := url.QueryUnescape(rawName)
	value, _ := url.QueryUnescape(rawValue)
	switch {
	case name == "":
		return pair{}, invalidCampaign("template has a pair with no name: %q", raw)
	case strings.ContainsAny(name, "{}"):
		return pair{}, invalidCampaign("placeholders go in values, not in the name %q", name)
	case name == MarkerParam:
		return pair{}, invalidCampaign("%q is the landing marker's parameter", MarkerParam)
	}
	parts, err := parseValue(value)
	if err != nil {
		return pair{}, err
	}
	return pair{name: name, value: parts}, nil
}

// parseValue splits a template value into literal text and placeholders.
// Any brace outside a known placeholder is an error, so a typo such as
// {chanel} fails at startup instead of reaching every visitor.
func parseValue(v string) ([]part, error) {
	var parts []part
	for v != "" {
		open := strings.IndexAny(v, "{}")
		if open < 0 {
			return append(parts, part{text: v}), nil
		}
		if open > 0 {
			parts = append(parts, part{text: v[:open]})
		}
		end := strings.IndexByte(v[open:], '}')
		if v[open] == '}' || end < 0 {
			return nil, invalidCampaign("unmatched brace in template value %q", v)
		}
		ph := v[open : open+end+1]
		if ph != placeholderChannel && ph != placeholderCampaign && ph != placeholderCode {
			return nil, invalidCampaign("unknown placeholder %s (known: %s, %s, %s)", ph, placeholderChannel, placeholderCampaign, placeholderCode)
		}
		parts = append(parts, part{text: ph, placeholder: true})
		v = v[open+end+1:]
	}
	return parts, nil
}

// PresetNames lists the presets, comma-separated, for messages.
func PresetNames() string { return joinNames(Presets) }

// destination is Campaign.Destination for a parsed campaign.
func (p plan) destination(target string, ch Channel, code string, marker bool) (string, error) {
	if len(p.pairs) == 0 && !marker {
		return target, nil
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return "", fmt.Errorf("%w: %q is not an absolute http(s) url", ErrInvalidURL, target)
	}
	ours := make([]string, 0, len(p.pairs)+1)
	for _, pr := range p.pairs {
		ours = append(ours, url.QueryEscape(pr.name)+"="+url.QueryEscape(p.fill(pr.value, ch, code)))
	}
	if marker {
		ours = append(ours, MarkerParam+"="+url.QueryEscape(code))
	}
	u.RawQuery = strings.Join(append(p.kept(u.RawQuery, marker), ours...), "&")
	return u.String(), nil
}

// fill returns a value with its placeholders replaced. Replacements are not
// scanned again, so a campaign name may hold braces.
func (p plan) fill(value []part, ch Channel, code string) string {
	var b strings.Builder
	for _, pt := range value {
		switch {
		case !pt.placeholder:
			b.WriteString(pt.text)
		case pt.text == placeholderChannel:
			b.WriteString(string(ch))
		case pt.text == placeholderCampaign:
			b.WriteString(p.name)
		case pt.text == placeholderCode:
			b.WriteString(code)
		}
	}
	return b.String()
}

// kept returns the pairs of a raw query that we do not set ourselves, as
// they were. Empty pairs go: they carry nothing.
func (p plan) kept(rawQuery string, marker bool) []string {
	var kept []string
	for raw := range strings.SplitSeq(rawQuery, "&") {
		if raw == "" {
			continue
		}
		rawName, _, _ := strings.Cut(raw, "=")
		if name, err := url.QueryUnescape(rawName); err == nil && p.sets(name, marker) {
			continue
		}
		kept = append(kept, raw)
	}
	return kept
}

func (p plan) sets(name string, marker bool) bool {
	if marker && name == MarkerParam {
		return true
	}
	for _, pr := range p.pairs {
		if pr.name == name {
			return true
		}
	}
	return false
}
