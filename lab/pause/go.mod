module kubemark-lab/pause

go 1.21
