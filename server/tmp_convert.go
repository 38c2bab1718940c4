package server

import "github.com/labstack/echo/v4"

func (s *Server) convertToken(c echo.Context) error { return echo.ErrNotFound }
