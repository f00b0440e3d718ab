package link

// ListQuery selects links for the admin's links page.
type ListQuery struct {
	Search  string  // part of the target URL, any case; "" for all
	Channel Channel // "" for every channel
	After   string  // the Next of the previous page; "" for the first
	Limit   int     // links per page
}

// ListPage is one page of links.
type ListPage struct {
	Links []Link
	Next  string // "" on the last page
}
